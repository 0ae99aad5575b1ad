"""Writes of the rule sets and the circuit breaker.

A rule set is never edited: a change is a new version effective from a date (today or later,
after the newest version's date), so every loan stays judged by the rules of its own day.
The breaker sweep records each institution's change of standing (熔断 ↔ 恢复) once, and tells
the institution once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import require
from xinrong.audit.services import audit_record
from xinrong.enterprises.choices import EntityType
from xinrong.reference.choices import SizeClass
from xinrong.riskfund.breaker import Breaker, npl_ratios
from xinrong.riskfund.choices import BreakerState, FundStatus, LoanKind
from xinrong.riskfund.eligibility import rules_in_force
from xinrong.riskfund.models import BreakerEvent, Fund, InstitutionLimit, RuleSet
from xinrong.riskfund.rules.eligibility import LENDER_KINDS
from xinrong.riskfund.selectors.rules import latest_rules, rule_changes

MAX_AMOUNT = Decimal("99999999999999.99")
NOTE_MAX = 2000


@dataclass(frozen=True)
class LimitIn:
    """One per-institution yearly limit of a new version (yuan)."""

    institution_id: int
    year_cap: Decimal


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def rule_set_problems(
    *,
    fund: Fund,
    effective_from: dt.date | None,
    loan_cap: Decimal | None,
    entity_types: Sequence[str],
    sizes: Sequence[str],
    loan_kinds: Sequence[str],
    gov_share: Decimal | None,
    min_overdue_days: int | None,
    institution_year_cap: Decimal | None,
    breaker_threshold: Decimal | None,
    limits: Sequence[LimitIn],
    note: str,
    today: dt.date | None = None,
) -> dict[str, list[str]]:
    """Every problem of a new version, by field, in Chinese naming the field and the rule."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def bad(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    latest = latest_rules(fund)
    if effective_from is None:
        bad("effective_from", _("生效日期：请填写新版本开始生效的日期"))
    else:
        if effective_from < today:
            bad(
                "effective_from",
                _("生效日期：不能早于今天（%(d)s），已放出的贷款按原规则判断")
                % {"d": today.isoformat()},
            )
        if latest is not None and effective_from <= latest.effective_from:
            bad(
                "effective_from",
                _("生效日期：须晚于最新版本 v%(v)s 的生效日期 %(d)s")
                % {"v": latest.version, "d": latest.effective_from.isoformat()},
            )
    if loan_cap is None:
        bad("loan_cap", _("单笔贷款金额上限：请填写"))
    elif loan_cap <= 0 or loan_cap > MAX_AMOUNT:
        bad("loan_cap", _("单笔贷款金额上限：须大于 0"))
    allowed = {
        "entity_types": (entity_types, EntityType, _("覆盖的主体类型")),
        "sizes": (sizes, SizeClass, _("覆盖的企业规模")),
        "loan_kinds": (loan_kinds, LoanKind, _("覆盖的贷款种类")),
    }
    for name, (values, choices, label) in allowed.items():
        unknown = [v for v in values if v not in choices.values]
        if unknown:
            bad(name, _("%(label)s：没有“%(v)s”这一项") % {"label": label, "v": "、".join(unknown)})
    if not entity_types:
        bad("entity_types", _("覆盖的主体类型：请至少选择一种"))
    if EntityType.ENTERPRISE in entity_types and not sizes:
        bad("sizes", _("覆盖的企业规模：覆盖企业时请至少选择一种规模"))
    if not loan_kinds:
        bad("loan_kinds", _("覆盖的贷款种类：请至少选择一种"))
    if gov_share is None:
        bad("gov_share", _("政府分担比例：请选择"))
    elif not (Decimal("0") < gov_share <= Decimal("1")) or gov_share != gov_share.quantize(
        Decimal("0.001")
    ):
        bad("gov_share", _("政府分担比例：须在 0 到 100% 之间（不含 0）"))
    if min_overdue_days is None:
        bad("min_overdue_days", _("逾期多少天可申请补偿：请填写"))
    elif not 0 <= min_overdue_days <= 3650:
        bad("min_overdue_days", _("逾期多少天可申请补偿：须在 0 到 3650 天之间"))
    if institution_year_cap is not None and not 0 <= institution_year_cap <= MAX_AMOUNT:
        bad("institution_year_cap", _("每家机构每年补偿上限：不能为负数"))
    if breaker_threshold is not None and not Decimal("0") < breaker_threshold < Decimal("100"):
        bad("breaker_threshold", _("熔断不良率：须大于 0% 且小于 100%（不设熔断请留空）"))
    lenders = dict(
        Organisation.objects.filter(
            pk__in=[lim.institution_id for lim in limits], kind__in=LENDER_KINDS
        ).values_list("pk", "name")
    )
    seen: set[int] = set()
    for lim in limits:
        if lim.institution_id not in lenders:
            bad("limits", _("机构限额：只能为银行或小额贷款公司设定"))
        elif lim.institution_id in seen:
            bad(
                "limits",
                _("机构限额：%(name)s 重复填写了两次") % {"name": lenders[lim.institution_id]},
            )
        if lim.year_cap < 0 or lim.year_cap > MAX_AMOUNT:
            bad("limits", _("机构限额：年度上限不能为负数"))
        seen.add(lim.institution_id)
    if not note.strip():
        bad("note", _("调整说明：请写明为什么调整规则（将显示在版本记录中）"))
    elif len(note) > NOTE_MAX:
        bad("note", _("调整说明：不超过 %(n)s 字") % {"n": NOTE_MAX})
    return errors


@transaction.atomic
def rule_set_create(
    *,
    actor: Any,
    fund: Fund,
    effective_from: dt.date | None,
    loan_cap: Decimal | str | None,
    entity_types: Sequence[str],
    sizes: Sequence[str],
    loan_kinds: Sequence[str],
    gov_share: Decimal | str | None,
    covers_interest: bool = False,
    min_overdue_days: int | None = 90,
    institution_year_cap: Decimal | str | None = None,
    breaker_threshold: Decimal | str | None = None,
    limits: Iterable[LimitIn] = (),
    note: str = "",
    today: dt.date | None = None,
) -> RuleSet:
    """Create the fund's next rule version, in force from ``effective_from``; every problem at
    once (a ValidationError by field); amounts in yuan."""
    require(actor, "riskfund.rules_manage", fund)
    fund = Fund.objects.select_for_update().get(pk=fund.pk)  # one new version at a time
    limits = list(limits)
    values = {
        "loan_cap": _amount(loan_cap),
        "gov_share": _amount(gov_share),
        "institution_year_cap": _amount(institution_year_cap),
        "breaker_threshold": _amount(breaker_threshold),
    }
    if fund.status != FundStatus.ACTIVE:
        raise ValidationError({"effective_from": _("基金已停止运行，不能再设定新规则")})
    errors = rule_set_problems(
        fund=fund,
        effective_from=effective_from,
        entity_types=list(entity_types),
        sizes=list(sizes),
        loan_kinds=list(loan_kinds),
        min_overdue_days=min_overdue_days,
        limits=limits,
        note=note,
        today=today,
        **values,
    )
    if errors:
        raise ValidationError(errors)
    assert effective_from is not None and values["loan_cap"] is not None
    assert values["gov_share"] is not None and min_overdue_days is not None
    latest = latest_rules(fund)
    number = (RuleSet.objects.filter(fund=fund).aggregate(m=Max("version"))["m"] or 0) + 1
    rules = RuleSet(
        fund=fund,
        version=number,
        effective_from=effective_from,
        loan_cap=values["loan_cap"].quantize(Decimal("0.01")),
        entity_types=[v for v in EntityType.values if v in entity_types],
        sizes=[v for v in SizeClass.values if v in sizes],
        loan_kinds=[v for v in LoanKind.values if v in loan_kinds],
        gov_share=values["gov_share"],
        covers_interest=bool(covers_interest),
        min_overdue_days=min_overdue_days,
        institution_year_cap=values["institution_year_cap"],
        breaker_threshold=values["breaker_threshold"],
        note=note.strip(),
        created_by=actor,
    )
    rules.full_clean()
    new_limits = [
        InstitutionLimit(
            rule_set=rules,
            institution_id=lim.institution_id,
            year_cap=lim.year_cap.quantize(Decimal("0.01")),
        )
        for lim in limits
    ]
    if latest is not None:
        old_limits = list(latest.limits.select_related("institution"))
        for lim in new_limits:
            lim.institution = Organisation.objects.get(pk=lim.institution_id)
        if not rule_changes(latest, rules, old_limits, new_limits):
            raise ValidationError(
                {"note": _("新版本与 v%(v)s 完全相同：请至少调整一项规则") % {"v": latest.version}}
            )
    rules.save()
    InstitutionLimit.objects.bulk_create(new_limits)
    audit_record(
        category="config",
        action="riskfund.rule_set_create",
        actor=actor,
        target_type="riskfund.ruleset",
        target_id=rules.pk,
        target_label=f"{fund} v{rules.version}",
        region_code=getattr(fund, "region_code", "") or "",
    )
    return rules


# ------------------------------------------------------------------------------ breaker


def _notify(fund: Fund, institution_id: int, state: str, b: Breaker) -> None:
    from xinrong.credit.recipients import organisation_users
    from xinrong.notifications.services import notify_on_commit

    if state == BreakerState.TRIPPED:
        title = _("%(fund)s：贵机构平台贷款不良率 %(r)s%% 已超过熔断线 %(t)s%%，补偿暂停") % {
            "fund": fund.name,
            "r": b.ratio,
            "t": b.threshold,
        }
        body = _("熔断期间，贵机构在该基金下的补偿申请不予支付；不良率回落到熔断线以下后自动恢复。")
    else:
        title = _("%(fund)s：贵机构平台贷款不良率已回落到 %(r)s%%，恢复补偿") % {
            "fund": fund.name,
            "r": b.ratio,
        }
        body = _("贵机构在该基金下的补偿申请恢复正常审批与支付。")
    notify_on_commit(
        recipients=organisation_users(organisation_id=institution_id),
        kind="riskfund.breaker",
        title=title,
        body=body,
        link=reverse("riskfund:my_breaker"),
        organisation_id=institution_id,
    )


def breaker_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Compare every institution's standing under every active fund with its last recorded
    state; record a BreakerEvent (and notify the institution) where it changed. Idempotent:
    a second sweep with nothing changed writes nothing."""
    now = now or timezone.now()
    counts = {"funds": 0, "institutions": 0, "tripped": 0, "reset": 0}
    for fund_id in Fund.objects.filter(status=FundStatus.ACTIVE).values_list("pk", flat=True):
        with transaction.atomic():
            # the fund's row first (the one lock order): two sweeps never record a change twice
            fund = Fund.objects.select_for_update().get(pk=fund_id)
            counts["funds"] += 1
            standings = npl_ratios(fund)
            last: dict[int, BreakerEvent] = {}
            for e in BreakerEvent.objects.filter(fund=fund).order_by(
                "institution_id", "-at", "-id"
            ):
                last.setdefault(e.institution_id, e)
            rules = rules_in_force(fund, timezone.localdate(now))
            threshold = rules.breaker_threshold if rules else None
            for inst_id in sorted(set(standings) | set(last)):
                counts["institutions"] += 1
                b = standings.get(inst_id) or Breaker(
                    inst_id, Decimal("0.00"), Decimal("0"), Decimal("0"), threshold
                )
                was_tripped = inst_id in last and last[inst_id].state == BreakerState.TRIPPED
                if b.tripped == was_tripped:
                    continue
                state = BreakerState.TRIPPED if b.tripped else BreakerState.RESET
                BreakerEvent.objects.create(
                    fund=fund,
                    institution_id=inst_id,
                    state=state,
                    ratio=b.ratio,
                    # a breaker switched off by new rules resets against the line it had
                    threshold=b.threshold if b.threshold is not None else last[inst_id].threshold,
                    at=now,
                )
                counts["tripped" if b.tripped else "reset"] += 1
                _notify(fund, inst_id, state, b)
    return counts
