"""Writes of the 上市挂牌后备库 (capital-market reserve): the operator screens and adds
enterprises; investors express interest; the enterprise accepts or declines. Every step writes a
ReserveEvent (the entry's audit trail). Also the direct-financing case records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgGroup, OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.credit.recipients import entity_users
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    FinancingCaseType,
    InterestStatus,
    ReserveEventKind,
    ReserveStatus,
)
from xinrong.marketplace.models import (
    DirectFinancingCase,
    InvestorInterest,
    ReserveCandidate,
)
from xinrong.marketplace.selectors.capital_market import reserve_metrics
from xinrong.marketplace.services.common import _decimal, _ensure_entity_user
from xinrong.marketplace.workflows import RESERVE, RESERVE_ADDED_BODY, RESERVE_ADDED_TITLE
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.kernel import event_record, transition_apply

# ================================================================ capital-market reserve (issue 5)
# 上市挂牌后备库: the operator screens and adds enterprises; investors express interest; the
# enterprise accepts or declines. Every step writes a ReserveEvent (the entry's audit trail).

CASE_AMOUNT_MAX = Decimal("100000000000")  # 1,000 亿元
INVESTOR_ROLES = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)


def _ensure_reserve_operator(user: User, action: str) -> None:
    if not permissions.can(user, "marketplace.reserve_manage"):
        raise PermissionDeniedError("forbidden", _("只有平台运营管理员可以%(a)s") % {"a": action})


def _notify_investor(interest: InvestorInterest, *, title: str, body: str = "") -> None:
    investor_id = interest.investor_id

    notify_on_commit(
        recipients=User.objects.filter(
            organisation_id=investor_id, is_active=True, api_key__isnull=True
        ),
        kind="capital_market",
        title=title,
        body=body,
        link=reverse("marketplace:reserve_detail", args=[interest.candidate_id]),
        organisation_id=investor_id,
    )


@transaction.atomic
def reserve_add(
    *, actor: User, entity: MarketEntity, criteria: dict[str, Any], note: str = ""
) -> ReserveCandidate:
    """Add an enterprise to the reserve database with a snapshot of the criteria and its
    indicators at the time; an entry that was removed is re-activated."""
    _ensure_reserve_operator(actor, _("将企业纳入上市挂牌后备库"))
    entity = MarketEntity.objects.select_for_update().get(pk=entity.pk)
    if entity.registration_status != "active":
        raise ConflictError(
            "not_active",
            _("%(n)s的登记状态为“%(s)s”，只有存续企业可以入库")
            % {"n": entity.name, "s": entity.get_registration_status_display()},
        )
    metrics = reserve_metrics(entity_ids=[entity.pk])[entity.pk]
    snapshot = {
        "criteria": dict(criteria),
        "metrics": metrics.as_dict(),
        "as_of": timezone.localdate().isoformat(),
    }
    note = (note or "").strip()[:2000]
    candidate = ReserveCandidate.objects.filter(entity=entity).first()
    if candidate is not None and candidate.status != ReserveStatus.REMOVED:
        raise ConflictError(
            "already_reserved",
            _("%(n)s已在上市挂牌后备库中（%(s)s）")
            % {"n": entity.name, "s": candidate.get_status_display()},
        )
    if candidate is not None:  # removed earlier: it comes back

        def readd(locked: ReserveCandidate) -> None:
            locked.added_by = actor
            locked.criteria = snapshot
            locked.note = note

        return _reserve_move(candidate, "add", actor=actor, note=note, update=readd)
    candidate = ReserveCandidate(
        entity=entity, added_by=actor, criteria=snapshot, status=ReserveStatus.ACTIVE, note=note
    )
    candidate.full_clean()
    candidate.save()
    event_record(
        RESERVE,
        candidate,
        ReserveEventKind.ADDED,
        actor=actor,
        note=note,
        created=True,
        event_fields={"organisation_id": actor.organisation_id},
    )
    notify_on_commit(
        recipients=entity_users(entity=entity),
        kind="capital_market",
        title=str(RESERVE_ADDED_TITLE),
        body=str(RESERVE_ADDED_BODY),
        link=reverse("marketplace:capital_market"),
        organisation_id=entity.organisation_id,
    )
    return candidate


def _reserve_move(
    candidate: ReserveCandidate,
    action: str,
    *,
    actor: User,
    note: str = "",
    update: Any = None,
) -> ReserveCandidate:
    """Take a reserve action on the kernel; the event records the actor's organisation."""
    moved: ReserveCandidate = transition_apply(
        RESERVE,
        candidate,
        action,
        actor=actor,
        note=note,
        update=update,
        event_fields={"organisation_id": actor.organisation_id},
    ).obj
    return moved


@transaction.atomic
def reserve_close(
    *, actor: User, candidate: ReserveCandidate, status: str, note: str
) -> ReserveCandidate:
    """End an active reserve entry: the enterprise went public or was listed (上市挂牌), or it
    leaves the reserve (移出, e.g. it no longer meets the criteria). Pending investor interests
    are declined; a removed entry may be added again later."""
    _ensure_reserve_operator(actor, _("变更后备库企业状态"))
    candidate = (
        ReserveCandidate.objects.select_for_update().select_related("entity").get(pk=candidate.pk)
    )
    if status not in (ReserveStatus.LISTED, ReserveStatus.REMOVED):
        raise ValidationError(
            {"status": _("状态只能为“已上市挂牌”或“已移出”")}, code="invalid_choice"
        )
    RESERVE.check(actor, candidate, "list" if status == ReserveStatus.LISTED else "remove")
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("请填写说明（如挂牌市场与日期，或移出原因）")}, code="required"
        )

    def close(locked: ReserveCandidate) -> None:
        locked.note = note[:2000]

    action = "list" if status == ReserveStatus.LISTED else "remove"
    candidate = _reserve_move(candidate, action, actor=actor, note=note[:2000], update=close)
    pending = list(
        InvestorInterest.objects.filter(candidate=candidate, status=InterestStatus.PENDING)
    )
    closed = _("企业已不在后备库培育中，意向自动关闭")
    InvestorInterest.objects.filter(pk__in=[i.pk for i in pending]).update(
        status=InterestStatus.DECLINED,
        responded_at=timezone.now(),
        response_note=closed,
        updated_at=timezone.now(),
    )
    entity = MarketEntity.objects.get(pk=candidate.entity_id)
    for interest in pending:
        _notify_investor(
            interest,
            title=_("您对%(e)s的投资意向已关闭") % {"e": entity.name},
            body=closed,
        )
    return candidate


@transaction.atomic
def reserve_intro_update(
    *, actor: User, candidate: ReserveCandidate, intro: str
) -> ReserveCandidate:
    """Set what the enterprise chooses to show investors beside its registry information."""
    candidate = (
        ReserveCandidate.objects.select_for_update().select_related("entity").get(pk=candidate.pk)
    )
    _ensure_reserve_enterprise(actor, candidate)
    intro = (intro or "").strip()
    if len(intro) > 2000:
        raise ValidationError({"intro": _("展示信息不超过 2000 字")}, code="invalid")

    def set_intro(locked: ReserveCandidate) -> None:
        locked.intro = intro

    return _reserve_move(candidate, "intro", actor=actor, update=set_intro)


def _ensure_reserve_enterprise(user: User, candidate: ReserveCandidate) -> None:
    try:
        _ensure_entity_user(user, candidate.entity)
    except PermissionDeniedError:
        raise PermissionDeniedError(
            "forbidden", _("只有该企业的企业主或经办人可以管理其后备库信息和投资意向")
        ) from None


@transaction.atomic
def interest_express(
    *, actor: User, candidate: ReserveCandidate, note: str = ""
) -> InvestorInterest:
    """An investor expresses interest in a reserve enterprise; the enterprise is told."""
    org = actor.organisation
    if org is None or org.kind != OrgKind.INVESTOR or not org.is_active:
        raise PermissionDeniedError("forbidden", _("只有投资机构可以表达投资意向"))
    permissions.require(
        actor,
        "marketplace.reserve_interest",
        message=_("只有投资机构的机构管理员或客户经理可以表达投资意向"),
    )
    candidate = (
        ReserveCandidate.objects.select_for_update().select_related("entity").get(pk=candidate.pk)
    )
    RESERVE.check(actor, candidate, "interest")
    if candidate.interests.filter(investor=org, status=InterestStatus.PENDING).exists():
        raise ConflictError(
            "already_pending", _("本机构对该企业已有待回复的投资意向，请等待企业回复")
        )
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": _("意向说明不超过 1000 字")}, code="invalid")
    interest = InvestorInterest(investor=org, candidate=candidate, note=note, created_by=actor)
    interest.full_clean()
    interest.save()
    # the event's note names the investor; the enterprise's notice shows it
    _reserve_move(candidate, "interest", actor=actor, note=f"{org.name}：{note}")
    return interest


@transaction.atomic
def interest_respond(
    *, actor: User, interest: InvestorInterest, accept: bool, note: str = ""
) -> InvestorInterest:
    """The enterprise accepts or declines an investor's pending interest; the investor is told."""
    interest = (
        InvestorInterest.objects.select_for_update()
        .select_related("candidate__entity", "investor")
        .get(pk=interest.pk)
    )
    _ensure_reserve_enterprise(actor, interest.candidate)
    if interest.status != InterestStatus.PENDING:
        raise ConflictError(
            "not_pending",
            _("该投资意向已处理（%(s)s），不能重复回复") % {"s": interest.get_status_display()},
        )
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": _("回复说明不超过 1000 字")}, code="invalid")
    interest.status = InterestStatus.ACCEPTED if accept else InterestStatus.DECLINED
    interest.responded_by = actor
    interest.responded_at = timezone.now()
    interest.response_note = note
    interest.save(
        update_fields=["status", "responded_by", "responded_at", "response_note", "updated_at"]
    )
    _reserve_move(
        interest.candidate,
        "accept" if accept else "decline",
        actor=actor,
        note=f"{interest.investor.name}：{note}",
    )
    entity = interest.candidate.entity
    _notify_investor(
        interest,
        title=(_("%(e)s接受了贵机构的投资意向") if accept else _("%(e)s婉拒了贵机构的投资意向"))
        % {"e": entity.name},
        body=note,
    )
    return interest


def financing_case_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Return normalised case fields, or raise ValidationError naming the field in Chinese."""
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 120:
        raise ValidationError({"title": _("案例标题必填，不超过 120 字")}, code="invalid")
    case_type = str(data.get("case_type") or "").strip()
    if case_type not in FinancingCaseType.values:
        raise ValidationError(
            {
                "case_type": _("融资方式“%(v)s”无效，可选：%(a)s")
                % {"v": case_type, "a": "、".join(FinancingCaseType.values)}
            },
            code="invalid_choice",
        )
    amount = _decimal(data, "amount", _("融资金额"))
    if not Decimal("0") < amount <= CASE_AMOUNT_MAX or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(
            {"amount": _("融资金额应大于 0 元、不超过 1000 亿元，最多两位小数")},
            code="out_of_range",
        )
    occurred_on = data.get("occurred_on")
    if not isinstance(occurred_on, dt.date):
        try:
            occurred_on = dt.date.fromisoformat(str(occurred_on or ""))
        except ValueError:
            raise ValidationError(
                {"occurred_on": _("融资日期格式应为 YYYY-MM-DD")}, code="invalid"
            ) from None
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("融资日期不能晚于今天")}, code="out_of_range")
    investor = data.get("investor")
    if investor is not None and (
        not isinstance(investor, Organisation) or investor.group != OrgGroup.INSTITUTION
    ):
        raise ValidationError({"investor": _("投资机构须为平台上的金融或投资机构")})
    entity = data.get("entity")
    if entity is not None and not isinstance(entity, MarketEntity):
        raise ValidationError({"entity": _("融资企业不存在")})
    counterparty = str(data.get("counterparty") or "").strip()
    description = str(data.get("description") or "").strip()
    if len(counterparty) > 200 or len(description) > 5000:
        raise ValidationError(
            {"description": _("投资方不超过 200 字，案例介绍不超过 5000 字")}, code="invalid"
        )
    return {
        "title": title,
        "case_type": case_type,
        "amount": amount,
        "occurred_on": occurred_on,
        "investor": investor,
        "entity": entity,
        "counterparty": counterparty,
        "description": description,
    }


@transaction.atomic
def financing_case_record(*, actor: User, data: dict[str, Any]) -> DirectFinancingCase:
    """Record a direct-financing case (equity, bond, listing, 新三板, regional equity market)."""
    _ensure_reserve_operator(actor, _("登记直接融资案例"))
    case = DirectFinancingCase(recorded_by=actor, **financing_case_clean(data))
    case.full_clean()
    case.save()
    return case


@transaction.atomic
def capital_market_access_set(*, actor: User, organisation: Organisation, allowed: bool) -> None:
    """The operator opens (or closes) the reserve to a bank or microloan company; its staff are
    told. Investors always have the reserve; other kinds cannot be given it."""
    permissions.require(
        actor,
        "marketplace.capital_market_grant",
        organisation,
        message=_("只有全省运营管理员可以向银行、小额贷款公司开放上市挂牌后备库"),
    )
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if org.capital_market_access == allowed:
        return
    org.capital_market_access = allowed
    org.save(update_fields=["capital_market_access", "updated_at"])
    organisation.capital_market_access = allowed
    notify_on_commit(
        recipients=list(
            User.objects.filter(organisation=org, is_active=True, api_key__isnull=True)
        ),
        kind="capital_market",
        title=_("运营方已向贵机构开放上市挂牌后备库")
        if allowed
        else _("运营方已关闭贵机构的上市挂牌后备库权限"),
        link=reverse("marketplace:capital_market") if allowed else "",
        organisation_id=org.pk,
    )
