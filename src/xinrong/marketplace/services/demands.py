"""Writes of financing demands: publish, withdraw, 抢单 (institutions take and release demands)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ConflictError
from xinrong.common.templatetags.money import amount_text
from xinrong.credit.recipients import operator_users
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    DemandEventKind,
    DemandStatus,
    ProductStatus,
    ProductType,
)
from xinrong.marketplace.inputs import DemandIn
from xinrong.marketplace.models import Demand, Loan, LoanApplication, Product
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.services.common import (
    _ensure_entity_user,
)
from xinrong.marketplace.transitions import (
    demand_held_by_actor,
    demand_not_held_by_other,
    demand_region_covered,
    enterprise_of,
)
from xinrong.marketplace.workflows import DEMAND
from xinrong.notifications.services import notify_on_commit
from xinrong.reference import divisions
from xinrong.workflows.kernel import event_record, transition_apply

# ---------------------------------------------------------------- financing demands


def _demand_locked(demand: Demand) -> Demand:
    # No join on held_by: after waiting for the lock, PostgreSQL returns the row's new held_by_id
    # but the outer-joined holder as it was before, so the holder is read after locking.
    return Demand.objects.select_for_update(of=("self",)).select_related("entity").get(pk=demand.pk)


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _lender_staff_covering(demand: Demand) -> list[User]:
    """The officers of the lending institutions whose published products cover the demand."""
    ids = demand_selectors.lenders_covering(division_code=demand.division_code)
    return list(
        User.objects.filter(organisation_id__in=ids, is_active=True, api_key__isnull=True)
        .filter(roles__role__in=sorted(demand_selectors.GRAB_ROLES))
        .distinct()
    )


@transaction.atomic
def demand_publish(*, actor: User, entity: MarketEntity, data: DemandIn) -> Demand:
    """Publish an open financing demand of an entity (its owner or agent only); the lenders
    whose service regions cover it are told."""
    _ensure_entity_user(actor, entity)
    demand = Demand(
        entity=entity, created_by=actor, division_code=entity.division_code, **data.as_fields()
    )
    demand.full_clean()
    demand.save()
    event_record(DEMAND, demand, DemandEventKind.PUBLISHED, actor=actor, created=True)
    notify_on_commit(
        recipients=_lender_staff_covering(demand),
        kind="demand.published",
        title=_("服务地区内有新的融资需求：%(p)s %(a)s，%(t)s 个月")
        % {
            "p": divisions.full_name(demand.division_code) or demand.division_code,
            "a": amount_text(demand.amount),
            "t": demand.term_months,
        },
        body=_("%(e)s发布了融资需求，可在需求大厅查看并承接。") % {"e": entity.name},
        link=reverse("marketplace:demand", args=[demand.pk]),
    )
    return demand


@transaction.atomic
def demand_withdraw(*, demand: Demand, actor: User) -> Demand:
    """Withdraw an open demand; it leaves matching and the institutions' hall."""
    demand = _demand_locked(demand)
    _ensure_entity_user(actor, demand.entity)
    holder = demand.held_by_id

    def update(locked: Demand) -> None:
        locked.closed_at = timezone.now()
        locked.held_by, locked.held_until = None, None  # a withdrawn demand is nobody's any more

    moved: Demand = transition_apply(
        DEMAND,
        demand,
        "withdraw",
        actor=actor,
        update=update,
        event_fields={"organisation_id": holder},
    ).obj
    return moved


# ---------------------------------------------------------------- 抢单 (institutions take demands)
#
# One institution holds an open demand at a time, for XINRONG_DEMAND_HOLD_HOURS; then the demand
# returns to the pool. The demand stays open while held: the enterprise sees who holds it. A
# hold whose time has run out counts as free even before the sweep records its expiry.


def demand_hold_hours() -> int:
    """Return how long a take holds a demand (``XINRONG_DEMAND_HOLD_HOURS``, at least 1)."""
    return max(1, int(getattr(settings, "XINRONG_DEMAND_HOLD_HOURS", 72)))


def demand_escalate_days() -> int:
    """Return after how many untaken days a demand escalates (``XINRONG_DEMAND_ESCALATE_DAYS``)."""
    return max(1, int(getattr(settings, "XINRONG_DEMAND_ESCALATE_DAYS", 7)))


def _ensure_grabber(actor: User) -> Organisation:
    refusal = demand_selectors.grab_refusal(user=actor)
    if refusal is not None:
        raise refusal
    assert actor.organisation is not None
    return actor.organisation


@transaction.atomic
def demand_take(*, demand: Demand, actor: User, now: dt.datetime | None = None) -> Demand:
    """Take (抢单) an open demand for the actor's lending institution for the hold period.

    Refused (403) for users who do not lend or outside the institution's service regions, and
    (409) while another institution holds it or when it is no longer open. Taking a demand one's
    institution already holds changes nothing: the hold is not extended.
    """
    institution = _ensure_grabber(actor)
    now = now or timezone.now()
    demand = _demand_locked(demand)  # the row lock makes two takes wait for each other
    DEMAND.check(actor, demand, "take")
    ctx = {"actor": actor, "data": {"at": now.isoformat()}}
    demand_region_covered(demand, ctx)
    demand_not_held_by_other(demand, ctx)
    if demand_selectors.demand_is_held(demand, now=now):
        return demand  # already ours
    if demand.held_by_id is not None:  # an ended hold the sweep has not recorded yet
        event_record(
            DEMAND,
            demand,
            DemandEventKind.EXPIRED,
            actor=None,
            note=_("承接期已过，退回需求池"),
            event_fields={"organisation_id": demand.held_by_id, "created_at": now},
        )
    until = now + dt.timedelta(hours=demand_hold_hours())

    def update(locked: Demand) -> None:
        locked.held_by = institution
        locked.held_until = until

    moved: Demand = transition_apply(
        DEMAND,
        demand,
        "take",
        actor=actor,
        note=_("承接至 %(t)s") % {"t": _local(until)},
        data={"at": now.isoformat()},
        update=update,
        event_fields={"organisation_id": institution.pk, "created_at": now},
    ).obj
    return moved


@transaction.atomic
def demand_release(*, demand: Demand, actor: User, note: str = "") -> Demand:
    """Give a held demand back to the pool (the holding institution's decision)."""
    institution = _ensure_grabber(actor)
    demand = _demand_locked(demand)
    demand_held_by_actor(demand, {"actor": actor})

    def update(locked: Demand) -> None:
        locked.held_by, locked.held_until = None, None

    moved: Demand = transition_apply(
        DEMAND,
        demand,
        "release",
        actor=actor,
        note=note.strip()[:2000],
        update=update,
        event_fields={"organisation_id": institution.pk},
    ).obj
    return moved


@transaction.atomic
def demand_invite(
    *, demand: Demand, actor: User, product: Product, now: dt.datetime | None = None
) -> Demand:
    """Invite the enterprise whose demand the actor's institution holds to apply for one of the
    institution's published loan products (the 抢单's next step).

    The event keeps the product; the enterprise's users are told, with a link to the application
    form of that product pre-filled from the demand. Refused (403) for users who do not lend,
    (409) unless the actor's institution holds the open demand, and (400) for a product that is
    not the institution's published loan product.
    """
    institution = _ensure_grabber(actor)
    demand = _demand_locked(demand)
    if demand.held_by_id != institution.pk or not demand_selectors.demand_is_held(demand):
        raise ConflictError(
            "not_held",
            _("本机构当前未承接该需求（或承接期已过），请先承接（抢单）再邀请企业申请"),
        )
    version = product.current_version
    if (
        product.institution_id != institution.pk
        or product.status != ProductStatus.PUBLISHED
        or version is None
        or version.product_type == ProductType.GUARANTEE
    ):
        raise ValidationError(
            {"product": _("只能邀请企业申请本机构已上架的贷款产品")}, code="invalid_choice"
        )
    now = now or timezone.now()
    moved: Demand = transition_apply(
        DEMAND,
        demand,
        "invite",
        actor=actor,
        note=_("邀请申请“%(p)s”") % {"p": product.name},
        data={"product": product.code, "product_name": product.name},
        event_fields={"organisation_id": institution.pk, "created_at": now},
    ).obj
    link = reverse("marketplace:apply", args=[product.code]) + f"?demand={demand.pk}"
    notify_on_commit(
        recipients=enterprise_of(demand),
        kind="demand.invited",
        title=_("%(o)s邀请您申请“%(p)s”") % {"o": institution.name, "p": product.name},
        body=_(
            "%(o)s已承接您 %(a)s、%(m)s 个月的融资需求，邀请您申请“%(p)s”。"
            "点击打开申请表，金额、期限和用途已按需求填好。"
        )
        % {
            "o": institution.name,
            "a": amount_text(demand.amount),
            "m": demand.term_months,
            "p": product.name,
        },
        link=link,
    )
    return moved


def _clear_hold(locked: Demand) -> None:
    locked.held_by, locked.held_until = None, None


def demands_release_expired(*, now: dt.datetime | None = None) -> int:
    """Return demands whose hold has ended to the pool (event ``expired``); return how many."""
    now = now or timezone.now()
    with transaction.atomic():
        ended = list(
            Demand.objects.select_for_update(of=("self",))
            .filter(held_by__isnull=False, held_until__lte=now)
            .select_related("entity", "held_by")
            .order_by("id")
        )
        for d in ended:
            assert d.held_until is not None
            transition_apply(
                DEMAND,
                d,
                "expire",
                actor=None,
                note=_("“%(o)s”的承接期（至 %(t)s）已过，退回需求池")
                % {"o": d.held_by.name if d.held_by else "", "t": _local(d.held_until)},
                update=_clear_hold,
                event_fields={"organisation_id": d.held_by_id, "created_at": now},
            )
    return len(ended)


def demands_escalate_stale(*, now: dt.datetime | None = None) -> int:
    """Escalate open demands nobody holds that are older than the limit; return how many.

    Each demand escalates once (``escalated_at`` and an ``escalated`` event); each operator admin
    covering a demand's region gets one message listing its newly escalated demands.
    """
    now = now or timezone.now()
    days = demand_escalate_days()
    with transaction.atomic():
        stale = list(
            Demand.objects.select_for_update(of=("self",))
            .filter(
                status=DemandStatus.OPEN,
                escalated_at__isnull=True,
                created_at__lte=now - dt.timedelta(days=days),
            )
            .filter(Q(held_by__isnull=True) | Q(held_until__lte=now))
            # an application made from the demand is being worked on: nothing to escalate
            .exclude(applications__status__in=ACTIVE_STATUSES)
            .select_related("entity")
            .order_by("created_at", "id")
        )

        def mark(locked: Demand) -> None:
            locked.escalated_at = now

        for d in stale:
            transition_apply(
                DEMAND,
                d,
                "escalate",
                actor=None,
                note=_("发布超过 %(n)d 天无机构承接，已提请平台运营方跟进") % {"n": days},
                update=mark,
                event_fields={"created_at": now},
            )
        by_user: dict[int, list[Demand]] = {}
        by_region: dict[str, list[User]] = {}  # demands share regions
        for d in stale:
            if d.division_code not in by_region:
                by_region[d.division_code] = operator_users(entity=d.entity)
            for user in by_region[d.division_code]:
                by_user.setdefault(user.pk, []).append(d)
        link = reverse("marketplace:demands_escalated")
        for user_id, items in by_user.items():
            notify_on_commit(
                recipients=[user_id],
                kind="demand.escalated",
                title=_("%(n)d 个融资需求超过 %(d)d 天无机构承接") % {"n": len(items), "d": days},
                body="\n".join(
                    _("#%(id)d %(e)s · %(a)s · 发布于 %(t)s")
                    % {
                        "id": d.pk,
                        "e": d.entity.name,
                        "a": amount_text(d.amount),
                        "t": _local(d.created_at),
                    }
                    for d in items[:50]
                ),
                link=link,
            )
    return len(stale)


def _demand_close_funded(app: LoanApplication, loan: Loan) -> None:
    """Close the demand an application came from once it is funded: it leaves the hall."""
    demand = _demand_locked(Demand(pk=app.demand_id))
    if demand.status != DemandStatus.OPEN:
        return

    def update(locked: Demand) -> None:
        locked.closed_at = timezone.now()
        _clear_hold(locked)

    transition_apply(
        DEMAND,
        demand,
        "close",
        actor=None,
        note=_("已获%(i)s放款 %(a)s（贷款 %(n)s）")
        % {"i": app.institution.name, "a": amount_text(loan.principal), "n": loan.number},
        update=update,
        event_fields={"organisation_id": loan.institution_id},
    )
