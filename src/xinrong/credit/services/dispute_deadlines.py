"""The dispute deadline: escalate disputes past their legal answer deadline."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.credit import recipients
from xinrong.credit.choices import OPEN_DISPUTE_STATUSES
from xinrong.credit.models import Dispute
from xinrong.credit.services.common import category_label
from xinrong.credit.workflows import DISPUTE
from xinrong.notifications.services import notification_send
from xinrong.workflows.kernel import transition_apply


def dispute_escalate_overdue(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> list[Dispute]:
    """Flag open disputes past their deadline and tell the operators and the departments.

    Each dispute is escalated once (its ``escalated_at`` is set and an event written); each
    recipient gets one message listing its newly overdue disputes. Pass ``today``/``now`` to
    run for another day (tests, catch-up runs).
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    with transaction.atomic():
        overdue = list(
            Dispute.objects.select_for_update(of=("self",))
            .select_related("entity", "source")
            .filter(status__in=OPEN_DISPUTE_STATUSES, due_on__lt=today, escalated_at__isnull=True)
            .order_by("due_on", "id")
        )
        if not overdue:
            return []

        def escalated(locked: Dispute) -> None:
            locked.escalated_at = now

        for i, d in enumerate(overdue):
            overdue[i] = transition_apply(
                DISPUTE,
                d,
                "escalate",
                actor=None,
                note=_("答复期限 %(d)s 已过（逾期 %(n)d 天），已提请平台运营方督办")
                % {"d": d.due_on.isoformat(), "n": (today - d.due_on).days},
                data={"today": today.isoformat()},
                update=escalated,
                event_fields={"created_at": now},
            ).obj
            overdue[i].entity, overdue[i].source = d.entity, d.source  # loaded above

        def send() -> None:
            by_user: dict[int, list[Dispute]] = {}
            known: dict[tuple[int, str], list[User]] = {}  # disputes share sources and regions
            for d in overdue:
                key = (d.source_id, d.entity.division_code)
                if key not in known:
                    known[key] = recipients.escalation_users(source=d.source, entity=d.entity)
                for user in known[key]:
                    by_user.setdefault(user.pk, []).append(d)
            link = reverse("credit:dispute_list") + "?overdue=1"
            for user_id, items in by_user.items():
                notification_send(
                    recipients=[user_id],
                    kind="dispute.overdue",
                    title=_("%(n)d 件异议逾期未答复") % {"n": len(items)},
                    body="\n".join(
                        _("#%(id)d %(e)s · %(c)s · 期限 %(d)s")
                        % {
                            "id": d.pk,
                            "e": d.entity.name,
                            "c": category_label(d.category),
                            "d": d.due_on.isoformat(),
                        }
                        for d in items[:20]
                    ),
                    link=link,
                )

        transaction.on_commit(send)
    return overdue
