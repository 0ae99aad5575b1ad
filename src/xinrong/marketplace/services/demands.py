"""Writes of financing demands: publish, withdraw, 抢单 (institutions take and release demands)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.credit.recipients import entity_users, operator_users
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    CollateralMode,
    DemandEventKind,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
)
from xinrong.marketplace.models import Demand, DemandEvent, Loan, LoanApplication
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.services.common import (
    RATE_CEILING,
    _choices,
    _decimal,
    _demand_event,
    _demand_locked,
    _ensure_entity_user,
    _int,
    _local,
)
from xinrong.notifications.services import notification_send
from xinrong.reference import divisions

# ---------------------------------------------------------------- financing demands

DEMAND_AMOUNT_MAX = Decimal("100000000")


def demand_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Return normalised demand fields, or raise ValidationError naming the field in Chinese."""
    amount = _decimal(data, "amount", _("融资金额"))
    if not Decimal("0") < amount <= DEMAND_AMOUNT_MAX:
        raise ValidationError(
            {
                "amount": _("融资金额应大于 0 元且不超过 100,000,000 元，实际为 %(v)s")
                % {"v": amount}
            },
            code="out_of_range",
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("融资金额最多保留两位小数（分）")}, code="invalid")
    term = _int(data, "term_months", _("期限"))
    if not 1 <= term <= 360:
        raise ValidationError(
            {"term_months": _("期限应为 1–360 个月，实际为 %(v)s") % {"v": term}},
            code="out_of_range",
        )
    rate = _decimal(data, "max_rate", _("可接受最高年利率"))
    if not Decimal("0") <= rate <= RATE_CEILING:
        raise ValidationError(
            {"max_rate": _("可接受最高年利率应为 0–36（%%），实际为 %(v)s") % {"v": rate}},
            code="out_of_range",
        )
    if rate != rate.quantize(Decimal("0.01")):
        raise ValidationError({"max_rate": _("年利率最多保留两位小数")}, code="invalid")
    category = str(data.get("purpose_category") or "").strip()
    if category not in DemandPurpose.values:
        raise ValidationError(
            {
                "purpose_category": _("用途类别“%(v)s”无效，可选：%(a)s")
                % {"v": category, "a": "、".join(DemandPurpose.values)}
            },
            code="invalid_choice",
        )
    purpose = str(data.get("purpose") or "").strip()
    if len(purpose) > 1000:
        raise ValidationError({"purpose": _("资金用途说明不超过 1000 字")}, code="invalid")
    urgency = str(data.get("urgency") or DemandUrgency.NORMAL).strip()
    if urgency not in DemandUrgency.values:
        raise ValidationError(
            {
                "urgency": _("紧急程度“%(v)s”无效，可选：%(a)s")
                % {"v": urgency, "a": "、".join(DemandUrgency.values)}
            },
            code="invalid_choice",
        )
    modes = _choices(data, "collateral_modes", _("可接受的担保方式"), CollateralMode.values)
    return {
        "amount": amount,
        "term_months": term,
        "max_rate": rate,
        "purpose_category": category,
        "purpose": purpose,
        "urgency": urgency,
        "collateral_modes": modes,
    }


@transaction.atomic
def demand_publish(*, actor: User, entity: MarketEntity, data: dict[str, Any]) -> Demand:
    """Publish an open financing demand of an entity (its owner or agent only)."""
    _ensure_entity_user(actor, entity)
    fields = demand_clean(data)
    demand = Demand(entity=entity, created_by=actor, division_code=entity.division_code, **fields)
    demand.full_clean()
    demand.save()
    _demand_event(demand=demand, kind=DemandEventKind.PUBLISHED, actor=actor)
    return demand


@transaction.atomic
def demand_withdraw(*, demand: Demand, actor: User) -> Demand:
    """Withdraw an open demand; it leaves matching and the institutions' hall."""
    demand = Demand.objects.select_for_update().select_related("entity").get(pk=demand.pk)
    _ensure_entity_user(actor, demand.entity)
    if demand.status != DemandStatus.OPEN:
        raise ConflictError(
            "not_open",
            _("只有征集中的需求可以撤回，当前状态为“%(s)s”") % {"s": demand.get_status_display()},
        )
    holder = demand.held_by_id
    demand.status = DemandStatus.WITHDRAWN
    demand.closed_at = timezone.now()
    demand.held_by, demand.held_until = None, None  # a withdrawn demand is nobody's any more
    demand.save(update_fields=["status", "closed_at", "held_by", "held_until", "updated_at"])
    _demand_event(
        demand=demand, kind=DemandEventKind.WITHDRAWN, actor=actor, organisation_id=holder
    )
    return demand


def _notify_entity(demand: Demand, *, kind: str, title: str, body: str) -> None:
    """Tell the enterprise's users after commit (they then read the committed state)."""
    entity = demand.entity
    link = reverse("marketplace:demand", args=[demand.pk])

    def send() -> None:
        notification_send(
            recipients=entity_users(entity=entity),
            kind=kind,
            title=title,
            body=body,
            link=link,
            organisation_id=entity.organisation_id,
        )

    transaction.on_commit(send)


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
    if demand.status != DemandStatus.OPEN:
        raise ConflictError(
            "not_open",
            _("只有征集中的需求可以承接，当前状态为“%(s)s”") % {"s": demand.get_status_display()},
        )
    if not demand_selectors.institution_covers(
        institution_id=institution.pk, division_code=demand.division_code
    ):
        raise PermissionDeniedError(
            "outside_region",
            _("该需求所在地区（%(r)s）不在本机构的服务地区内（按本机构已上架产品的适用地区）")
            % {"r": divisions.full_name(demand.division_code) or demand.division_code},
            {"division_code": demand.division_code},
        )
    if demand_selectors.demand_is_held(demand, now=now):
        assert demand.held_by is not None and demand.held_until is not None
        if demand.held_by_id == institution.pk:
            return demand
        raise ConflictError(
            "held",
            _("该需求已由“%(o)s”承接，承接期至 %(t)s；到期未办理将退回需求池，届时可再抢单")
            % {"o": demand.held_by.name, "t": _local(demand.held_until)},
            {"held_by": demand.held_by.name, "held_until": demand.held_until.isoformat()},
        )
    if demand.held_by_id is not None:  # an ended hold the sweep has not recorded yet
        _demand_event(
            demand=demand,
            kind=DemandEventKind.EXPIRED,
            organisation_id=demand.held_by_id,
            note=_("承接期已过，退回需求池"),
            now=now,
        )
    demand.held_by = institution
    demand.held_until = now + dt.timedelta(hours=demand_hold_hours())
    demand.save(update_fields=["held_by", "held_until", "updated_at"])
    until = _local(demand.held_until)
    _demand_event(
        demand=demand,
        kind=DemandEventKind.TAKEN,
        actor=actor,
        organisation_id=institution.pk,
        note=_("承接至 %(t)s") % {"t": until},
        now=now,
    )
    _notify_entity(
        demand,
        kind="demand.taken",
        title=_("“%(o)s”承接了您的融资需求") % {"o": institution.name},
        body=_("融资金额 %(a)s 元；该机构将在 %(t)s 前与您联系办理，逾期未办理需求将退回需求池。")
        % {"a": f"{demand.amount:,.2f}", "t": until},
    )
    return demand


@transaction.atomic
def demand_release(*, demand: Demand, actor: User, note: str = "") -> Demand:
    """Give a held demand back to the pool (the holding institution's decision)."""
    institution = _ensure_grabber(actor)
    demand = _demand_locked(demand)
    if demand.held_by_id != institution.pk or not demand_selectors.demand_is_held(demand):
        raise ConflictError("not_held", _("本机构当前未承接该需求（或承接期已过），无需放弃"))
    demand.held_by, demand.held_until = None, None
    demand.save(update_fields=["held_by", "held_until", "updated_at"])
    note = note.strip()[:2000]
    _demand_event(
        demand=demand,
        kind=DemandEventKind.RELEASED,
        actor=actor,
        organisation_id=institution.pk,
        note=note,
    )
    _notify_entity(
        demand,
        kind="demand.released",
        title=_("“%(o)s”放弃承接您的融资需求") % {"o": institution.name},
        body=(_("需求已退回需求池，其他机构可以承接。") + (f"\n{note}" if note else "")),
    )
    return demand


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
        if not ended:
            return 0
        # updated_at is the demand hall's cache stamp: the real clock, whatever ``now`` says
        Demand.objects.filter(pk__in=[d.pk for d in ended]).update(
            held_by=None, held_until=None, updated_at=timezone.now()
        )
        DemandEvent.objects.bulk_create(
            [
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.EXPIRED,
                    organisation_id=d.held_by_id,
                    note=_("“%(o)s”的承接期（至 %(t)s）已过，退回需求池")
                    % {"o": d.held_by.name if d.held_by else "", "t": _local(d.held_until)},
                    created_at=now,
                )
                for d in ended
                if d.held_until is not None
            ]
        )
        for d in ended:
            _notify_entity(
                d,
                kind="demand.expired",
                title=_("融资需求的承接期已过，已退回需求池"),
                body=_("“%(o)s”未在承接期内办理，其他机构现在可以承接您的需求。")
                % {"o": d.held_by.name if d.held_by else ""},
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
            .select_related("entity")
            .order_by("created_at", "id")
        )
        if not stale:
            return 0
        Demand.objects.filter(pk__in=[d.pk for d in stale]).update(
            escalated_at=now, updated_at=timezone.now()
        )
        DemandEvent.objects.bulk_create(
            [
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.ESCALATED,
                    note=_("发布超过 %(n)d 天无机构承接，已提请平台运营方跟进") % {"n": days},
                    created_at=now,
                )
                for d in stale
            ]
        )

        def send() -> None:
            by_user: dict[int, list[Demand]] = {}
            by_region: dict[str, list[User]] = {}  # demands share regions
            for d in stale:
                if d.division_code not in by_region:
                    by_region[d.division_code] = operator_users(entity=d.entity)
                for user in by_region[d.division_code]:
                    by_user.setdefault(user.pk, []).append(d)
            link = reverse("marketplace:demands_escalated")
            for user_id, items in by_user.items():
                notification_send(
                    recipients=[user_id],
                    kind="demand.escalated",
                    title=_("%(n)d 个融资需求超过 %(d)d 天无机构承接")
                    % {"n": len(items), "d": days},
                    body="\n".join(
                        _("#%(id)d %(e)s · %(a)s 元 · 发布于 %(t)s")
                        % {
                            "id": d.pk,
                            "e": d.entity.name,
                            "a": f"{d.amount:,.2f}",
                            "t": _local(d.created_at),
                        }
                        for d in items[:50]
                    ),
                    link=link,
                )

        transaction.on_commit(send)
    return len(stale)


def _demand_close_funded(app: LoanApplication, loan: Loan) -> None:
    """Close the demand an application came from once it is funded: it leaves the hall."""
    demand = _demand_locked(Demand(pk=app.demand_id))
    if demand.status != DemandStatus.OPEN:
        return
    demand.status = DemandStatus.CLOSED
    demand.closed_at = timezone.now()
    demand.held_by, demand.held_until = None, None
    demand.save(update_fields=["status", "closed_at", "held_by", "held_until", "updated_at"])
    _demand_event(
        demand=demand,
        kind=DemandEventKind.CLOSED,
        organisation_id=loan.institution_id,
        note=_("已获%(i)s放款 %(a)s 元（贷款 %(n)s）")
        % {"i": app.institution.name, "a": loan.principal, "n": loan.number},
    )
