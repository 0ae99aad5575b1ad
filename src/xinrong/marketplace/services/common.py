"""Helpers the marketplace's write services share: field parsers, the enterprise-user check,
the application row lock, status move and event, notify-after-commit, the demand lock and event."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.credit import recipients
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.lifecycle import OFFICER_ROLES, REVIEWER_ROLES, TRANSITIONS
from xinrong.marketplace.models import ApplicationEvent, Demand, DemandEvent, LoanApplication
from xinrong.notifications.services import notification_send

GRADES = tuple(g for g, _floor in DEFAULT_BANDS)
RATE_CEILING = Decimal("36")
INSTITUTION_ROLES = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)


# ---------------------------------------------------------------- validation


def _decimal(terms: dict[str, Any], field: str, label: str) -> Decimal:
    try:
        value = Decimal(str(terms.get(field, "")).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {field: _("%(label)s应为数字") % {"label": label}}, code="invalid"
        ) from None
    if not value.is_finite():
        raise ValidationError({field: _("%(label)s应为数字") % {"label": label}}, code="invalid")
    return value


def _int(terms: dict[str, Any], field: str, label: str) -> int:
    try:
        return int(str(terms.get(field, "")).strip())
    except ValueError:
        raise ValidationError(
            {field: _("%(label)s应为整数") % {"label": label}}, code="invalid"
        ) from None


def _choices(
    terms: dict[str, Any], field: str, label: str, allowed: list[str] | tuple[str, ...]
) -> list[str]:
    raw = terms.get(field) or []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,，;；\s]+", raw) if p]
    values = [str(v).strip() for v in raw if str(v).strip()]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationError(
            {
                field: _("%(label)s取值“%(bad)s”无效，可选：%(allowed)s")
                % {"label": label, "bad": "、".join(bad), "allowed": "、".join(allowed)}
            },
            code="invalid_choice",
        )
    return list(dict.fromkeys(values))


ENTERPRISE_ROLES = (Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT)


def _ensure_entity_user(user: User, entity: MarketEntity) -> None:
    permissions.require(
        user,
        "marketplace.demand_file",
        entity,
        message=_("只有该企业的企业主或经办人可以发布或撤回其融资需求"),
    )


# ---------------------------------------------------------------- demands


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _demand_event(
    *,
    demand: Demand,
    kind: str,
    actor: User | None = None,
    organisation_id: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> DemandEvent:
    return DemandEvent.objects.create(
        demand=demand,
        kind=kind,
        actor=actor,
        organisation_id=organisation_id,
        note=note,
        created_at=now or timezone.now(),
    )


def _demand_locked(demand: Demand) -> Demand:
    # No join on held_by: after waiting for the lock, PostgreSQL returns the row's new held_by_id
    # but the outer-joined holder as it was before, so the holder is read after locking.
    return Demand.objects.select_for_update(of=("self",)).select_related("entity").get(pk=demand.pk)


# ---------------------------------------------------------------- loan applications

APPLICATION_PREFIX = "SQ"


def _app_event(
    app: LoanApplication,
    *,
    kind: str,
    actor: User | None,
    from_status: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    via_api: bool = False,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=app,
        kind=kind,
        actor=actor,
        organisation_id=actor.organisation_id if actor is not None else None,
        via_api=via_api,
        from_status=from_status,
        to_status=app.status,
        note=note,
        data=data or {},
        created_at=timezone.now(),
    )


def _app_locked(app: LoanApplication) -> LoanApplication:
    return (
        LoanApplication.objects.select_for_update()
        .select_related("entity", "institution", "product", "product_version")
        .get(pk=app.pk)
    )


def _notify_entity_app(app: LoanApplication, *, title: str, body: str = "") -> None:
    entity = app.entity
    _notify_after_commit(
        lambda: recipients.entity_users(entity=entity),
        kind="loan_application",
        title=title,
        body=body,
        link=reverse("marketplace:application_detail", args=[app.pk]),
        organisation_id=entity.organisation_id,
    )


def _notify_institution_app(app: LoanApplication, *, title: str, body: str = "") -> None:
    institution_id = app.institution_id

    def users() -> list[User]:
        return list(
            User.objects.filter(
                organisation_id=institution_id, is_active=True, api_key__isnull=True
            )
            .filter(roles__role__in=sorted(OFFICER_ROLES | REVIEWER_ROLES))
            .distinct()
        )

    _notify_after_commit(
        users,
        kind="loan_application",
        title=title,
        body=body,
        link=reverse("marketplace:application_detail", args=[app.pk]),
        organisation_id=institution_id,
    )


def _notify_after_commit(
    who: Any, *, kind: str, title: str, body: str, link: str, organisation_id: int | None
) -> None:
    def send() -> None:
        notification_send(
            recipients=who(),
            kind=kind,
            title=title,
            body=body,
            link=link,
            organisation_id=organisation_id,
        )

    transaction.on_commit(send)


def _deadline(start: dt.datetime, days: int) -> dt.datetime:
    return start + dt.timedelta(days=days)


def _move(
    app: LoanApplication,
    *,
    action: str,
    actor: User | None,
    kind: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    via_api: bool = False,
    target: str | None = None,
    fields: tuple[str, ...] = (),
) -> LoanApplication:
    """Set the new status (the table's, or ``target``), save the named fields and record it."""
    before = app.status
    app.status = target or TRANSITIONS[action].target
    app.save(update_fields=["status", "updated_at", *fields])
    _app_event(
        app, kind=kind, actor=actor, from_status=before, note=note, data=data, via_api=via_api
    )
    return app
