"""Writes of the risk funds: set up a fund; record injections, adjustments and reversals.

Each service checks the actor's permission, collects every problem of its input and raises them
together (a ``ValidationError`` naming each field, shown on the form at once, 422), and posts to
the ledger in one transaction under the fund's lock (``services.ledger``), so nothing is half
written.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.permissions import in_region, is_finance_department, require
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.reference import divisions
from xinrong.riskfund.choices import EntryKind, FundLevel, FundStatus
from xinrong.riskfund.models import Fund, LedgerEntry
from xinrong.riskfund.selectors.funds import REVERSIBLE_KINDS
from xinrong.riskfund.services import ledger

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MEMO_MAX = 200
VOUCHER_MAX = 64
PLAN_MAX = Decimal("1e14")
RESERVED_CODES = frozenset({"new"})  # the page /riskfund/funds/new/


class Problems:
    """Every problem of one input, by field, raised together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def take(self, exc: ApplicationError, default: str) -> None:
        self.add(str(exc.extra.get("field") or default), exc.message)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(
                {k: [ValidationError(m) for m in v] for k, v in self.errors.items()}
            )


def _text(value: Any) -> str:
    return str(value or "").strip()


def fund_region(code: str) -> str:
    """Return the stored region of a fund (the prefix of the divisions it covers) for a
    division code picked by name: 630000 → "63", 632800 → "6328", 632801 → "632801"."""
    return divisions.descendants_prefix(code)


def _check_date(
    problems: Problems, field: str, label: str, value: Any, *, not_before: dt.date | None = None
) -> dt.date | None:
    if value in (None, ""):
        return timezone.localdate()
    if not isinstance(value, dt.date):
        problems.add(field, _("%(f)s不是有效日期，如 2026-01-31") % {"f": label})
        return None
    if value > timezone.localdate():
        problems.add(field, _("%(f)s不能晚于今天") % {"f": label})
    if not_before is not None and value < not_before:
        problems.add(
            field,
            _("%(f)s不能早于基金设立日期 %(d)s") % {"f": label, "d": not_before.isoformat()},
        )
    return value


# --------------------------------------------------------------------------------- funds


@transaction.atomic
def fund_create(
    *,
    actor: Any,
    code: str,
    name: str,
    level: str,
    division_code: str,
    manager: Any,
    office: Any,
    yearly_injection: Any,
    opened_on: Any,
    description: str = "",
) -> Fund:
    """Set up a risk-compensation fund covering a region (省级: the province; 市州级: a
    prefecture or county), managed by a finance department and run by an operator office."""
    require(actor, "riskfund.fund_manage")
    problems = Problems()
    code = _text(code).lower()
    name = _text(name)
    if not CODE_RE.match(code):
        problems.add(
            "code", _("基金代码只能用小写字母、数字和短横线，2 到 40 位，以字母或数字开头")
        )
    elif code in RESERVED_CODES:
        problems.add("code", _("“%(c)s”是系统保留字，请换一个基金代码") % {"c": code})
    elif Fund.objects.filter(code=code).exists():
        problems.add("code", _("基金代码“%(c)s”已被使用，请换一个") % {"c": code})
    if not name:
        problems.add("name", _("请填写基金名称"))
    elif len(name) > 100:
        problems.add("name", _("基金名称最多 100 个字"))
    elif Fund.objects.filter(name=name).exists():
        problems.add("name", _("已有同名基金“%(n)s”") % {"n": name})
    if level not in FundLevel.values:
        problems.add("level", _("请选择基金级别：省级或市州级"))
    region = ""
    division = divisions.get(_text(division_code)) if _text(division_code) else None
    if division is None:
        problems.add("division_code", _("请选择基金覆盖的区域"))
    else:
        region = fund_region(division.code)
        province = division.level == divisions.LEVEL_PROVINCE
        if level == FundLevel.PROVINCE and not province:
            problems.add("division_code", _("省级基金覆盖全省，请选择省"))
        if level == FundLevel.CITY and province:
            problems.add("division_code", _("市州级基金请选择市州或县（市、区），不能选择全省"))
        if not in_region(actor, region):
            problems.add(
                "division_code", _("%(r)s不在您管辖的区域内") % {"r": divisions.full_name(region)}
            )
        twin = Fund.objects.filter(division_code=region, status=FundStatus.ACTIVE).first()
        if twin is not None:
            problems.add(
                "division_code",
                _("%(r)s已有运行中的基金“%(f)s”，同一区域只能有一个")
                % {"r": divisions.full_name(region), "f": twin.name},
            )
    if manager is None or not is_finance_department(manager):
        problems.add("manager", _("管理部门须是财政部门（名称含“财政”的政府部门）"))
    if office is None or office.kind not in (OrgKind.OPERATOR, OrgKind.SUBSTATION):
        problems.add("office", _("受理机构须是平台运营方或其子站"))
    plan = Decimal("0.00")
    if yearly_injection not in (None, ""):
        try:
            plan = Decimal(str(yearly_injection).strip())
        except Exception:
            plan = Decimal("NaN")
        if not plan.is_finite() or plan < 0 or plan >= PLAN_MAX:
            problems.add("yearly_injection", _("年度计划注资须是不小于 0 的金额（元）"))
        elif plan != plan.quantize(ledger.CENT):
            problems.add("yearly_injection", _("年度计划注资最多保留两位小数（分）"))
    if opened_on in (None, ""):
        problems.add("opened_on", _("请填写设立日期"))
    elif not isinstance(opened_on, dt.date):
        problems.add("opened_on", _("设立日期不是有效日期，如 2026-01-31"))
    elif opened_on > timezone.localdate():
        problems.add("opened_on", _("设立日期不能晚于今天"))
    problems.raise_any()
    fund = Fund(
        code=code,
        name=name,
        level=level,
        division_code=region,
        manager=manager,
        office=office,
        yearly_injection=plan,
        opened_on=opened_on,
        description=_text(description),
    )
    fund.full_clean()
    fund.save()
    return fund


# -------------------------------------------------------------------------------- ledger


def _amount(problems: Problems, value: Any, label: str) -> Decimal | None:
    try:
        return ledger.money(value, field="amount", label=label)
    except ApplicationError as exc:
        problems.take(exc, "amount")
        return None


def _texts(problems: Problems, voucher_no: Any, memo: Any, *, memo_required: str = "") -> None:
    if len(_text(voucher_no)) > VOUCHER_MAX:
        problems.add("voucher_no", _("外部凭证号最多 %(n)d 个字符") % {"n": VOUCHER_MAX})
    if len(_text(memo)) > MEMO_MAX:
        problems.add("memo", _("摘要最多 %(n)d 个字") % {"n": MEMO_MAX})
    if memo_required and not _text(memo):
        problems.add("memo", memo_required)


@transaction.atomic
def fund_inject(
    *,
    actor: Any,
    fund: Fund,
    amount: Any,
    value_date: Any = None,
    voucher_no: str = "",
    memo: str = "",
) -> LedgerEntry:
    """Record money the finance department put into the fund (财政注资)."""
    require(actor, "riskfund.fund_post", fund)
    problems = Problems()
    value = _amount(problems, amount, _("注资金额"))
    day = _check_date(problems, "value_date", _("到账日期"), value_date, not_before=fund.opened_on)
    _texts(problems, voucher_no, memo)
    if fund.status != FundStatus.ACTIVE:
        problems.add("amount", _("基金已停止运行，不能再注资"))
    problems.raise_any()
    locked = ledger.fund_lock(fund)
    voucher = _text(voucher_no)
    if voucher:
        twin = (
            LedgerEntry.objects.filter(
                fund=locked, kind=EntryKind.INJECTION, voucher_no=voucher, reversed_by__isnull=True
            )
            .only("number")
            .first()
        )
        if twin is not None:
            raise ConflictError(
                "voucher_used",
                _("外部凭证号 %(v)s 已登记过注资（台账凭证 %(n)s），请勿重复登记")
                % {"v": voucher, "n": twin.number},
                {"field": "voucher_no"},
            )
    return ledger.injection_post(
        fund=locked,
        amount=value,
        actor=actor,
        value_date=day,
        voucher_no=voucher,
        memo=_text(memo),
    )


ADJUST_IN = "in"
ADJUST_OUT = "out"


@transaction.atomic
def fund_adjust(
    *,
    actor: Any,
    fund: Fund,
    amount: Any,
    direction: str,
    memo: str,
    value_date: Any = None,
    voucher_no: str = "",
) -> LedgerEntry:
    """Record an adjustment (调整): bank interest into the fund, fees out of it; never below a
    zero balance."""
    require(actor, "riskfund.fund_post", fund)
    problems = Problems()
    value = _amount(problems, amount, _("调整金额"))
    if direction not in (ADJUST_IN, ADJUST_OUT):
        problems.add("direction", _("请选择调整方向：转入基金或从基金转出"))
    day = _check_date(problems, "value_date", _("记账日期"), value_date, not_before=fund.opened_on)
    _texts(problems, voucher_no, memo, memo_required=_("请填写调整原因"))
    problems.raise_any()
    return ledger.adjustment_post(
        fund=fund,
        amount=value,
        into_fund=direction == ADJUST_IN,
        memo=_text(memo),
        actor=actor,
        value_date=day,
        voucher_no=_text(voucher_no),
    )


@transaction.atomic
def entry_reverse(*, actor: Any, entry: LedgerEntry, memo: str) -> LedgerEntry:
    """Reverse a wrong injection or adjustment with its mirror entry (冲销), once, with the
    reason; a compensation or a recovery's return follows its claim instead."""
    require(actor, "riskfund.fund_post", entry.fund)
    problems = Problems()
    _texts(problems, "", memo, memo_required=_("请填写冲销原因"))
    problems.raise_any()
    if entry.kind == EntryKind.REVERSAL:
        raise ConflictError("reverse_reversal", _("冲销凭证不能再冲销，请另行登记调整"))
    if entry.kind not in REVERSIBLE_KINDS:
        raise ConflictError(
            "not_reversible",
            _("%(k)s凭证随补偿申请或追偿办理，不能在台账中直接冲销")
            % {"k": entry.get_kind_display()},
        )
    return ledger.reverse_entry(entry=entry, actor=actor, memo=_text(memo))
