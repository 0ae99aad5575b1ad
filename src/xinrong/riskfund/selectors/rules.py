"""Reads of the rule sets and the circuit breaker: versions with what changed in words, every
institution's standing under a fund, an institution's own standing, the workbench card."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import can, require
from xinrong.common.errors import NotFoundError
from xinrong.enterprises.choices import EntityType
from xinrong.reference.choices import SizeClass
from xinrong.riskfund.breaker import Breaker, npl_ratios
from xinrong.riskfund.choices import BreakerState, FundStatus, LoanKind
from xinrong.riskfund.eligibility import rules_in_force, wan
from xinrong.riskfund.models import BreakerEvent, Fund, InstitutionLimit, RuleSet

HUNDRED = Decimal("100")


# ------------------------------------------------------------------------------ words


def share_text(share: Decimal | None) -> str:
    """ "3:7" for a government share of 0.3 (government : lender)."""
    if share is None:
        return ""
    gov = (share * 10).normalize()
    bank = (10 - share * 10).normalize()
    return f"{gov:f}:{bank:f}"


def _labels(choices: Any, values: Iterable[str]) -> str:
    names = dict(choices.choices)
    text = "、".join(str(names.get(v, v)) for v in values)
    return text or _("不限")


def _wan_or_none(amount: Decimal | None) -> str:
    return _("不设上限") if amount is None else _("%(n)s 万元") % {"n": wan(amount)}


def _pct_or_none(value: Decimal | None) -> str:
    return _("不设熔断") if value is None else f"{value.normalize():f}%"


def _yes_no(value: bool) -> str:
    return _("是") if value else _("否")


def rule_terms(rules: RuleSet) -> list[tuple[str, str]]:
    """The rule set's terms as (label, value in words) pairs, in the order a reader scans them."""
    return [
        (_("单笔贷款金额上限"), _("%(n)s 万元") % {"n": wan(rules.loan_cap)}),
        (_("覆盖的主体类型"), _labels(EntityType, rules.entity_types)),
        (_("覆盖的企业规模"), _labels(SizeClass, rules.sizes)),
        (_("覆盖的贷款种类"), _labels(LoanKind, rules.loan_kinds)),
        (_("政府 : 机构分担"), share_text(rules.gov_share)),
        (_("补偿利息损失"), _yes_no(rules.covers_interest)),
        (_("逾期多少天可申请补偿"), _("%(n)s 天") % {"n": rules.min_overdue_days}),
        (_("每家机构每年补偿上限"), _wan_or_none(rules.institution_year_cap)),
        (_("熔断不良率"), _pct_or_none(rules.breaker_threshold)),
    ]


def _limit_map(limits: Iterable[InstitutionLimit]) -> dict[int, tuple[str, Decimal]]:
    return {lim.institution_id: (lim.institution.name, lim.year_cap) for lim in limits}


def rule_changes(
    old: RuleSet | None,
    new: RuleSet,
    old_limits: Iterable[InstitutionLimit] = (),
    new_limits: Iterable[InstitutionLimit] = (),
) -> list[str]:
    """What changed from ``old`` to ``new``, one sentence per term ("单笔贷款金额上限：500 万元 →
    1000 万元"); the first version: ["首个版本"]."""
    if old is None:
        return [_("首个版本")]
    out = [
        _("%(label)s：%(old)s → %(new)s") % {"label": label, "old": a, "new": b}
        for (label, a), (_label, b) in zip(rule_terms(old), rule_terms(new), strict=True)
        if a != b
    ]
    before, after = _limit_map(old_limits), _limit_map(new_limits)
    for inst_id, (name, cap) in after.items():
        if inst_id not in before:
            out.append(
                _("新增机构限额：%(name)s 每年 %(cap)s 万元") % {"name": name, "cap": wan(cap)}
            )
        elif before[inst_id][1] != cap:
            out.append(
                _("%(name)s 的年度限额：%(old)s 万元 → %(new)s 万元")
                % {"name": name, "old": wan(before[inst_id][1]), "new": wan(cap)}
            )
    for inst_id, (name, _cap) in before.items():
        if inst_id not in after:
            out.append(_("取消机构限额：%(name)s") % {"name": name})
    return out


# ------------------------------------------------------------------------------ funds


def funds_visible(*, user: Any, permission: str) -> list[Fund]:
    """The active funds the user may ``permission`` (a handful: asked one by one)."""
    funds = Fund.objects.filter(status=FundStatus.ACTIVE).select_related("office", "manager")
    return [f for f in funds.order_by("division_code", "id") if can(user, permission, f)]


def fund_get(*, user: Any, code: str, permission: str = "riskfund.rules_view") -> Fund:
    """The fund with ``code`` if the user may ``permission`` it (404 if unknown, 403 if not)."""
    fund = Fund.objects.select_related("office", "manager").filter(code=code).first()
    if fund is None:
        raise NotFoundError("fund_not_found", _("风险补偿基金不存在"), {"field": "code"})
    require(user, permission, fund)
    return fund


@dataclass
class Version:
    """One rule version as the rules page shows it."""

    rules: RuleSet
    terms: list[tuple[str, str]]
    limits: list[InstitutionLimit]
    changes: list[str]
    in_force: bool = False
    upcoming: bool = False

    @property
    def limit_rows(self) -> list[tuple[str, str]]:
        """(institution, yearly limit in 万元) of this version's per-institution limits."""
        return [(lim.institution.name, _wan_or_none(lim.year_cap)) for lim in self.limits]


def rule_versions(*, fund: Fund, today: dt.date | None = None) -> list[Version]:
    """Every version of the fund's rules, newest first, each with what it changed (3 queries)."""
    today = today or timezone.localdate()
    rule_sets = list(
        RuleSet.objects.filter(fund=fund)
        .select_related("created_by")
        .order_by("effective_from", "version")
    )
    limits: dict[int, list[InstitutionLimit]] = {r.pk: [] for r in rule_sets}
    for lim in (
        InstitutionLimit.objects.filter(rule_set__fund=fund)
        .select_related("institution")
        .order_by("institution__name", "id")
    ):
        limits[lim.rule_set_id].append(lim)
    current = rules_in_force(fund, today)
    out: list[Version] = []
    previous: RuleSet | None = None
    for r in rule_sets:
        out.append(
            Version(
                rules=r,
                terms=rule_terms(r),
                limits=limits[r.pk],
                changes=rule_changes(
                    previous, r, limits[previous.pk] if previous else (), limits[r.pk]
                ),
                in_force=current is not None and r.pk == current.pk,
                upcoming=r.effective_from > today,
            )
        )
        previous = r
    out.reverse()
    return out


def latest_rules(fund: Fund) -> RuleSet | None:
    """The fund's newest version (possibly not yet in force)."""
    return RuleSet.objects.filter(fund=fund).order_by("-effective_from", "-version").first()


def lender_choices() -> list[tuple[int, str]]:
    """The lending institutions a per-institution limit may name (banks, microloan companies)."""
    from xinrong.riskfund.rules.eligibility import LENDER_KINDS

    return list(
        Organisation.objects.filter(kind__in=LENDER_KINDS, is_active=True)
        .order_by("name")
        .values_list("id", "name")
    )


# ------------------------------------------------------------------------------ breaker


@dataclass
class Standing:
    """One institution's standing under one fund, with how far it is from the threshold."""

    fund: Fund
    institution: Organisation | None
    breaker: Breaker
    last_event: BreakerEvent | None = None

    @property
    def tripped(self) -> bool:
        return self.breaker.tripped

    @property
    def gap(self) -> Decimal | None:
        """Percentage points below the threshold (negative: above it); None without a breaker."""
        if self.breaker.threshold is None:
            return None
        return self.breaker.threshold - self.breaker.ratio

    @property
    def gap_abs(self) -> Decimal | None:
        gap = self.gap
        return None if gap is None else abs(gap)

    @property
    def money_to_line(self) -> Decimal | None:
        """Non-performing outstanding that would reach the line (tripped: that must be cleared
        to come back under it), in yuan, cents."""
        b = self.breaker
        if b.threshold is None or not b.outstanding:
            return None
        line = b.outstanding * b.threshold / HUNDRED
        return abs(line - b.non_performing).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _last_events(
    fund_ids: list[int], institution_ids: list[int] | None = None
) -> dict[tuple[int, int], BreakerEvent]:
    """The latest breaker event of each (fund, institution)."""
    qs = BreakerEvent.objects.filter(fund_id__in=fund_ids)
    if institution_ids is not None:
        qs = qs.filter(institution_id__in=institution_ids)
    last: dict[tuple[int, int], BreakerEvent] = {}
    for e in qs.order_by("fund_id", "institution_id", "-at", "-id"):
        last.setdefault((e.fund_id, e.institution_id), e)
    return last


@dataclass
class Board:
    """Every institution's standing under one fund, tripped first, and the fund's history."""

    fund: Fund
    rules: RuleSet | None
    rows: list[Standing] = field(default_factory=list)
    events: list[BreakerEvent] = field(default_factory=list)

    @property
    def threshold(self) -> Decimal | None:
        return self.rules.breaker_threshold if self.rules else None

    @property
    def tripped_count(self) -> int:
        return sum(1 for r in self.rows if r.tripped)


def breaker_boards(*, user: Any, code: str = "", history: int = 30) -> list[Board]:
    """Per fund the user may read: every institution's NPL ratio against the threshold (tripped
    first, then by ratio), and the latest breaker events."""
    funds = funds_visible(user=user, permission="riskfund.breaker_view")
    if code:
        funds = [f for f in funds if f.code == code]
    today = timezone.localdate()
    last = _last_events([f.pk for f in funds])
    boards: list[Board] = []
    org_ids: set[int] = set()
    ratios: dict[int, dict[int, Breaker]] = {}
    for fund in funds:
        ratios[fund.pk] = npl_ratios(fund)
        org_ids |= set(ratios[fund.pk])
    orgs = Organisation.objects.in_bulk(list(org_ids))
    for fund in funds:
        board = Board(fund=fund, rules=rules_in_force(fund, today))
        board.rows = sorted(
            (
                Standing(fund, orgs.get(inst_id), b, last.get((fund.pk, inst_id)))
                for inst_id, b in ratios[fund.pk].items()
            ),
            key=lambda s: (
                not s.tripped,
                -s.breaker.ratio,
                s.institution.name if s.institution else "",
            ),
        )
        board.events = list(
            BreakerEvent.objects.filter(fund=fund)
            .select_related("institution")
            .order_by("-at", "-id")[:history]
        )
        boards.append(board)
    return boards


def my_standings(*, user: Any) -> list[Standing]:
    """The user's institution under every active fund where it lends (or has breaker history)."""
    org_id = user.organisation_id
    funds = list(Fund.objects.filter(status=FundStatus.ACTIVE).order_by("division_code", "id"))
    last = _last_events([f.pk for f in funds], [org_id])
    org = user.organisation
    out: list[Standing] = []
    for fund in funds:
        b = npl_ratios(fund, [org_id]).get(org_id)
        event = last.get((fund.pk, org_id))
        if b is None and event is None:
            continue  # no loans in the fund's region and no history: nothing to say
        if b is None:
            rules = rules_in_force(fund, timezone.localdate())
            threshold = rules.breaker_threshold if rules else None
            b = Breaker(org_id, Decimal("0.00"), Decimal("0"), Decimal("0"), threshold)
        out.append(Standing(fund, org, b, event))
    return out


def my_history(*, user: Any, limit: int = 50) -> list[BreakerEvent]:
    """The user's institution's breaker events under every fund, newest first."""
    return list(
        BreakerEvent.objects.filter(institution_id=user.organisation_id)
        .select_related("fund")
        .order_by("-at", "-id")[:limit]
    )


def breaker_card(user: Any) -> dict[str, Any] | None:
    """The institution's workbench card: its standing per fund, tripped first (None: no loans
    under any fund, or not a lender)."""
    if not can(user, "riskfund.breaker_own"):
        return None
    standings = my_standings(user=user)
    if not standings:
        return None
    standings.sort(key=lambda s: (not s.tripped, -(s.breaker.ratio)))
    return {
        "standings": standings,
        "tripped": sum(1 for s in standings if s.tripped),
    }


def state_label(state: str) -> str:
    return str(dict(BreakerState.choices).get(state, state))
