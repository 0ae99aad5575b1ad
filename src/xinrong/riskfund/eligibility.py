"""Is a platform loan covered by a risk-compensation fund, and if not, why not.

A loan is judged by the rules in force **on the day it was made** (its disbursement date; for an
application not yet disbursed, today): the most specific active fund whose region holds the
borrower's division, then that fund's latest rule set effective on or before that day. The
answer carries every reason at once, in plain Chinese, for the lender's application page and
for the claim form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.credit.selectors.lists import compensation_veto
from xinrong.enterprises.choices import EntityType
from xinrong.reference.choices import SizeClass
from xinrong.riskfund.choices import FundStatus, LoanKind
from xinrong.riskfund.models import Fund, RuleSet

WAN = Decimal("10000")


def wan(amount: Decimal) -> str:
    """¥ amount in 万元 without trailing zeros: 5000000 → "500"."""
    value = (amount / WAN).normalize()
    return f"{value:f}"


def _labels(choices: Any, values: Iterable[str]) -> str:
    names = dict(choices.choices)
    return _("、").join(str(names.get(v, v)) for v in values)


@dataclass(frozen=True)
class LoanFacts:
    """What the rules look at, read from a loan or an application."""

    division_code: str
    entity_type: str
    size_class: str
    amount: Decimal
    on: dt.date  # the day the loan was (or would be) made
    credit: bool  # an unsecured credit loan (信用贷款)
    first: bool  # the enterprise's first loan (首贷)
    entity_id: int | None = None  # the borrower, for the black list's veto (None: not asked)


@dataclass(frozen=True)
class Coverage:
    """The verdict: covered or not, under which fund and rules, and every reason why not."""

    covered: bool
    fund: Fund | None
    rule_set: RuleSet | None
    reasons: tuple[str, ...] = ()
    share: Decimal | None = None
    kinds: tuple[str, ...] = field(default=())  # the loan kinds it qualifies by

    @property
    def share_text(self) -> str:
        """ "3:7" for a 0.3 government share."""
        if self.share is None:
            return ""
        gov = (self.share * 10).normalize()
        bank = (10 - self.share * 10).normalize()
        return f"{gov:f}:{bank:f}"


def fund_for(division_code: str, *, funds: Iterable[Fund] | None = None) -> Fund | None:
    """The most specific active fund whose region holds ``division_code`` (格尔木's before the
    province's), or None."""
    pool = funds if funds is not None else Fund.objects.filter(status=FundStatus.ACTIVE)
    best: Fund | None = None
    for fund in pool:
        if fund.status != FundStatus.ACTIVE or not division_code.startswith(fund.division_code):
            continue
        if best is None or len(fund.division_code) > len(best.division_code):
            best = fund
    return best


def rules_in_force(fund: Fund, on: dt.date) -> RuleSet | None:
    """The fund's rule set in force on ``on``: the latest effective on or before it."""
    return (
        RuleSet.objects.filter(fund=fund, effective_from__lte=on)
        .order_by("-effective_from", "-version")
        .first()
    )


def judge(facts: LoanFacts, rules: RuleSet) -> tuple[list[str], list[str]]:
    """Return (reasons it is not covered, loan kinds it qualifies by) under ``rules``."""
    reasons: list[str] = []
    if facts.entity_type not in rules.entity_types:
        reasons.append(
            _("借款主体是%(kind)s，规则只覆盖%(allowed)s")
            % {
                "kind": _labels(EntityType, [facts.entity_type]),
                "allowed": _labels(EntityType, rules.entity_types),
            }
        )
    # sizes apply to enterprises (an individual business is judged by its type alone)
    if facts.entity_type == EntityType.ENTERPRISE and rules.sizes:
        if not facts.size_class:
            reasons.append(
                _("企业规模未划型，无法确认是否属于%(allowed)s企业")
                % {"allowed": _labels(SizeClass, rules.sizes)}
            )
        elif facts.size_class not in rules.sizes:
            reasons.append(
                _("企业规模为%(size)s，规则只覆盖%(allowed)s企业")
                % {
                    "size": _labels(SizeClass, [facts.size_class]),
                    "allowed": _labels(SizeClass, rules.sizes),
                }
            )
    kinds: list[str] = []
    if LoanKind.ANY in rules.loan_kinds:
        kinds.append(LoanKind.ANY)
    if facts.credit and LoanKind.CREDIT in rules.loan_kinds:
        kinds.append(LoanKind.CREDIT)
    if facts.first and LoanKind.FIRST in rules.loan_kinds:
        kinds.append(LoanKind.FIRST)
    if not kinds:
        reasons.append(_("该笔贷款不是%(kinds)s") % {"kinds": _labels(LoanKind, rules.loan_kinds)})
    if facts.entity_id is not None:
        vetoed = compensation_veto(facts.entity_id, on=facts.on)
        if vetoed:
            reasons.insert(
                0, _("借款企业已列入信用黑名单（一票否决），不予风险补偿：%(r)s") % {"r": vetoed}
            )
    if facts.amount > rules.loan_cap:
        reasons.append(
            _("贷款金额 %(amount)s 万元超过单笔上限 %(cap)s 万元")
            % {"amount": wan(facts.amount), "cap": wan(rules.loan_cap)}
        )
    return reasons, kinds


def coverage(facts: LoanFacts, *, funds: Iterable[Fund] | None = None) -> Coverage:
    """Judge ``facts``: the fund of the borrower's region and its rules on the loan's day."""
    fund = fund_for(facts.division_code, funds=funds)
    if fund is None:
        return Coverage(False, None, None, (_("借款企业所在地区没有运行中的风险补偿基金"),))
    rules = rules_in_force(fund, facts.on)
    if rules is None:
        return Coverage(
            False,
            fund,
            None,
            (
                _("放款日 %(day)s 时%(fund)s尚无补偿规则")
                % {"day": facts.on.isoformat(), "fund": fund.name},
            ),
        )
    reasons, kinds = judge(facts, rules)
    return Coverage(not reasons, fund, rules, tuple(reasons), rules.gov_share, tuple(kinds))


def _credit(product_version: Any) -> bool:
    from xinrong.marketplace.choices import ProductType

    return product_version is not None and product_version.product_type == ProductType.CREDIT


def facts_of_loan(loan: Any) -> LoanFacts:
    """The facts of a disbursed loan, judged on its disbursement day."""
    entity = loan.entity
    return LoanFacts(
        division_code=entity.division_code,
        entity_type=entity.entity_type,
        size_class=entity.size_class or "",
        amount=loan.principal,
        on=loan.disbursed_on,
        credit=_credit(loan.application.product_version),
        first=bool(loan.first_loan),
        entity_id=loan.entity_id,
    )


def facts_of_application(app: Any, *, today: dt.date | None = None) -> LoanFacts:
    """The facts of an application not yet disbursed: judged today, at the amount approved (or
    asked), a first loan if the enterprise has no platform loan yet."""
    from xinrong.marketplace.models import Loan

    entity = app.entity
    return LoanFacts(
        division_code=entity.division_code,
        entity_type=entity.entity_type,
        size_class=entity.size_class or "",
        amount=app.approved_amount or app.amount,
        on=today or timezone.localdate(),
        credit=_credit(app.product_version),
        first=not Loan.objects.filter(entity_id=app.entity_id).exists(),
        entity_id=app.entity_id,
    )


def loan_coverage(loan: Any) -> Coverage:
    return coverage(facts_of_loan(loan))


def application_coverage(app: Any, *, today: dt.date | None = None) -> Coverage:
    loan = getattr(app, "loan", None)
    if loan is not None:
        return loan_coverage(loan)
    return coverage(facts_of_application(app, today=today))
