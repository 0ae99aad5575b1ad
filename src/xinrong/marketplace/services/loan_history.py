"""Import a lender's loan book (存量贷款) in bulk: loans with their repayment and overdue records.

A bank joining the platform sends its historical loans (the bank API's ``POST /loan-history`` or
``xinrong loans import``). Each call is checked as a whole first: every error of every loan is
reported at once (``loans[i].field`` and the rule, in Chinese) and nothing is written if any loan
is wrong. A good call writes, in bulk, what the live flow would have written: the application
(flagged ``imported``, with one "imported" timeline event through the workflow kernel), the loan,
its instalment schedule with the repayments applied, the repayment rows, status and balance, the
early-warning watches of loans still outstanding, and every loan event as a platform fact in ONE
datahub batch (so credit trains on the history and one rescoring follows).

Idempotent by content: a loan whose (institution, ``bank_loan_no``) is already stored with the same
content is reported ``present`` and not written again; the same number with other content is a
per-loan ``conflict`` error (an import never overwrites a loan).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit.services.early_warning import loan_watches_start
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    LENDER_KINDS,
    ApplicationEventKind,
    ApplicationStatus,
    LoanStatus,
    ProductStatus,
    ProductType,
    RepaymentMethod,
    VersionStatus,
)
from xinrong.marketplace.models import (
    Loan,
    LoanApplication,
    LoanInstalment,
    Product,
    ProductVersion,
    Repayment,
)
from xinrong.marketplace.schedule import FEN, Instalment, add_months, schedule
from xinrong.marketplace.services.common import APPLICATION_PREFIX, RATE_CEILING
from xinrong.marketplace.services.loans import loan_event_row
from xinrong.marketplace.workflows import APPLICATION
from xinrong.reference import uscc as uscc_codec
from xinrong.workflows.kernel import events_record

MAX_LOANS = 1000  # loans per call
MAX_LINES = 1000  # repayments, and overdue records, per loan
MAX_ERRORS_IN_MESSAGE = 20  # the message names the first ones; ``extra.errors`` has them all
MAX_TERM_MONTHS = 360
AMOUNT_LIMIT = Decimal("1000000000000")  # 1 万亿元: exact in DecimalField(16, 2) on every backend
CHUNK = 500
HISTORY_PRODUCT_PREFIX = "HIST-"

LOAN_KEYS = frozenset(
    {
        "bank_loan_no",
        "uscc",
        "principal",
        "annual_rate",
        "repayment_method",
        "applied_on",
        "contract_signed_on",
        "disbursed_on",
        "maturity_on",
        "first_loan",
        "renewal",
        "repayments",
        "overdue",
        "defaulted_on",
        "settled_on",
    }
)
OPTIONAL_KEYS = frozenset({"product_code"})
REPAYMENT_KEYS = frozenset({"paid_on", "amount", "principal", "interest"})
OVERDUE_KEYS = frozenset({"on", "days"})
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---------------------------------------------------------------- checked records


@dataclass(frozen=True)
class Paid:
    """One repayment of a checked loan."""

    paid_on: dt.date
    amount: Decimal
    principal: Decimal
    interest: Decimal


@dataclass
class HistoryLoan:
    """One loan of the call, checked."""

    index: int
    bank_loan_no: str
    uscc: str
    principal: Decimal
    annual_rate: Decimal
    repayment_method: str
    applied_on: dt.date
    contract_signed_on: dt.date
    disbursed_on: dt.date
    maturity_on: dt.date
    term_months: int
    first_loan: bool
    renewal: bool
    repayments: list[Paid]
    overdue: list[tuple[dt.date, int]]
    defaulted_on: dt.date | None
    settled_on: dt.date | None
    product_code: str
    digest: str = ""
    entity: MarketEntity | None = None
    product: Product | None = None


@dataclass
class Replay:
    """What the repayments did to the loan's schedule (computed, not stored)."""

    lines: list[Instalment]
    principal_paid: list[Decimal]
    interest_paid: list[Decimal]
    paid_on: list[dt.date | None]
    late: list[int] = field(default_factory=list)  # days past due at each repayment

    def overdue_days(self, day: dt.date) -> int:
        """Days past due on ``day`` of the oldest instalment not paid before it."""
        for line, paid in zip(self.lines, self.paid_on, strict=True):
            if line.due_on >= day:
                return 0
            if paid is None or paid > day:
                return (day - line.due_on).days
        return 0


class _Errors:
    """All errors of the call, each naming ``loans[i].field`` and the rule."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, index: int, path: str, code: str, rule: str) -> None:
        name = f"loans[{index}].{path}" if path else f"loans[{index}]"
        self.items.append(
            {"index": index, "field": name, "code": code, "message": f"{name}：{rule}"}
        )

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = "；".join(e["message"] for e in self.items[:MAX_ERRORS_IN_MESSAGE])
        more = len(self.items) - MAX_ERRORS_IN_MESSAGE
        raise ApplicationError(
            "invalid_loan_history",
            _("历史贷款有 %(n)d 处错误，本次未导入任何贷款：%(e)s%(more)s")
            % {
                "n": len(self.items),
                "e": shown,
                "more": _("；另有 %(k)d 处见 extra.errors") % {"k": more} if more > 0 else "",
            },
            {"field": "loans", "errors": self.items},
            status=422,
        )


# ---------------------------------------------------------------- field parsers


def _date(errors: _Errors, i: int, path: str, value: Any, *, null: bool = False) -> dt.date | None:
    if value is None and null:
        return None
    if isinstance(value, str) and DATE_PATTERN.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.add(
        i,
        path,
        "invalid_date",
        _("应为日期 YYYY-MM-DD%(n)s，实际为 %(v)s")
        % {"n": _("或 null") if null else "", "v": json.dumps(value, ensure_ascii=False)[:40]},
    )
    return None


def _amount(
    errors: _Errors,
    i: int,
    path: str,
    value: Any,
    *,
    zero: bool = False,
    limit: Decimal = AMOUNT_LIMIT,
) -> Decimal | None:
    """A yuan amount (or percent rate) sent as a decimal string: positive, at most 2 decimals."""
    shown = json.dumps(value, ensure_ascii=False)[:40]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        errors.add(
            i,
            path,
            "invalid_amount",
            _('应为字符串形式的数字，如 "1234.56"，实际为 %(v)s') % {"v": shown},
        )
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = Decimal("NaN")
    if not number.is_finite():
        errors.add(i, path, "invalid_amount", _("应为数字，实际为 %(v)s") % {"v": shown})
        return None
    if number < 0 or (number == 0 and not zero) or number >= limit:  # before quantize: 1e400
        rule = _("须不小于 0") if zero else _("须大于 0")
        errors.add(
            i,
            path,
            "out_of_range",
            _("%(r)s且小于 %(l)s，实际为 %(v)s") % {"r": rule, "l": limit, "v": shown},
        )
        return None
    if number != number.quantize(FEN):
        errors.add(i, path, "too_many_decimals", _("最多两位小数，实际为 %(v)s") % {"v": shown})
        return None
    return number.quantize(FEN)


def _bool(errors: _Errors, i: int, path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        errors.add(
            i,
            path,
            "invalid_bool",
            _("应为 true 或 false，实际为 %(v)s")
            % {"v": json.dumps(value, ensure_ascii=False)[:40]},
        )
        return False
    return value


def _keys(
    errors: _Errors,
    i: int,
    path: str,
    item: Any,
    required: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> bool:
    """Check an object has exactly the expected keys (``optional`` may be absent)."""
    if not isinstance(item, dict):
        errors.add(i, path, "invalid_object", _("应为 JSON 对象"))
        return False
    missing = sorted(required - set(item))
    unknown = sorted(set(item) - required - optional)
    if missing:
        errors.add(i, path, "missing_keys", _("缺少字段：%(k)s") % {"k": "、".join(missing)})
    if unknown:
        errors.add(
            i,
            path,
            "unknown_keys",
            _("有不认识的字段：%(k)s（允许的字段：%(a)s）")
            % {"k": "、".join(unknown), "a": "、".join(sorted(required | optional))},
        )
    return not missing and not unknown


def term_months_between(start: dt.date, end: dt.date) -> int:
    """Return the whole number of months from ``start`` whose date is nearest to ``end``."""
    n0 = (end.year - start.year) * 12 + end.month - start.month
    candidates = [n for n in (n0 - 1, n0, n0 + 1) if n >= 1]
    if not candidates:
        return 0
    return min(candidates, key=lambda n: (abs((add_months(start, n) - end).days), n))


# ---------------------------------------------------------------- checking one loan


def _loan_check(errors: _Errors, i: int, raw: Any, today: dt.date) -> HistoryLoan | None:
    """Check one loan's fields and rules; return it when it has no error."""
    before = len(errors.items)
    if not _keys(errors, i, "", raw, LOAN_KEYS, OPTIONAL_KEYS) and (
        not isinstance(raw, dict) or not set(raw) >= LOAN_KEYS
    ):
        return None  # a missing key is reported once, not again as a wrong value
    get = raw.get
    bank_no = get("bank_loan_no")
    if not isinstance(bank_no, str) or not bank_no.strip() or len(bank_no.strip()) > 64:
        errors.add(i, "bank_loan_no", "invalid", _("应为 1–64 个字符的借据号"))
        bank_no = ""
    code = get("uscc")
    if not isinstance(code, str) or not uscc_codec.is_valid(code):
        errors.add(
            i,
            "uscc",
            "invalid_uscc",
            _("统一社会信用代码不正确：%(v)s") % {"v": json.dumps(code, ensure_ascii=False)[:40]},
        )
        code = ""
    principal = _amount(errors, i, "principal", get("principal"))
    rate = _amount(errors, i, "annual_rate", get("annual_rate"), zero=True, limit=Decimal("1000"))
    if rate is not None and rate > RATE_CEILING:
        errors.add(
            i,
            "annual_rate",
            "out_of_range",
            _("年利率（%%）须在 0–%(c)s 之间，实际为 %(v)s") % {"c": RATE_CEILING, "v": rate},
        )
        rate = None
    method = get("repayment_method")
    if method not in RepaymentMethod.values:
        errors.add(
            i,
            "repayment_method",
            "invalid_choice",
            _("还款方式取值“%(v)s”无效，可选：%(c)s")
            % {
                "v": method,
                "c": "、".join(f"{m.value}（{m.label}）" for m in RepaymentMethod),
            },
        )
    applied = _date(errors, i, "applied_on", get("applied_on"))
    signed = _date(errors, i, "contract_signed_on", get("contract_signed_on"))
    disbursed = _date(errors, i, "disbursed_on", get("disbursed_on"))
    maturity = _date(errors, i, "maturity_on", get("maturity_on"))
    defaulted = _date(errors, i, "defaulted_on", get("defaulted_on"), null=True)
    settled = _date(errors, i, "settled_on", get("settled_on"), null=True)
    first_loan = _bool(errors, i, "first_loan", get("first_loan"))
    renewal = _bool(errors, i, "renewal", get("renewal"))
    product_code = get("product_code", "")
    if product_code is None:
        product_code = ""
    if not isinstance(product_code, str) or len(product_code.strip()) > 32:
        errors.add(i, "product_code", "invalid", _("应为本机构产品的产品代码（不超过 32 个字符）"))
        product_code = ""

    def future(path: str, day: dt.date | None) -> None:
        if day is not None and day > today:
            errors.add(
                i, path, "future", _("不能晚于今天 %(t)s，实际为 %(d)s") % {"t": today, "d": day}
            )

    for path, day in (
        ("applied_on", applied),
        ("contract_signed_on", signed),
        ("disbursed_on", disbursed),
        ("defaulted_on", defaulted),
        ("settled_on", settled),
    ):
        future(path, day)
    if applied and signed and signed < applied:
        errors.add(
            i,
            "contract_signed_on",
            "before_application",
            _("签约日期 %(s)s 早于申请日期 %(a)s：合同不能在申请之前签订")
            % {"s": signed, "a": applied},
        )
    if signed and disbursed and disbursed < signed:
        errors.add(
            i,
            "disbursed_on",
            "before_contract",
            _("放款日期 %(d)s 早于签约日期 %(s)s：不能在签约之前放款")
            % {"d": disbursed, "s": signed},
        )
    term = 0
    if disbursed and maturity:
        if maturity <= disbursed:
            errors.add(
                i,
                "maturity_on",
                "before_disbursement",
                _("到期日期 %(m)s 须晚于放款日期 %(d)s") % {"m": maturity, "d": disbursed},
            )
        else:
            term = term_months_between(disbursed, maturity)
            if not 1 <= term <= MAX_TERM_MONTHS:
                errors.add(
                    i,
                    "maturity_on",
                    "out_of_range",
                    _("贷款期限须在 1–%(k)s 个月之间，按放款和到期日期为 %(n)s 个月")
                    % {"k": MAX_TERM_MONTHS, "n": term},
                )
    if defaulted and disbursed and defaulted <= disbursed:
        errors.add(
            i,
            "defaulted_on",
            "before_disbursement",
            _("违约认定日期 %(v)s 须晚于放款日期 %(d)s") % {"v": defaulted, "d": disbursed},
        )
    if settled and disbursed and settled < disbursed:
        errors.add(
            i,
            "settled_on",
            "before_disbursement",
            _("结清日期 %(v)s 不能早于放款日期 %(d)s") % {"v": settled, "d": disbursed},
        )
    if settled and defaulted and settled < defaulted:
        errors.add(
            i,
            "settled_on",
            "before_default",
            _("结清日期 %(v)s 不能早于违约认定日期 %(d)s") % {"v": settled, "d": defaulted},
        )

    pays = _repayments_check(errors, i, get("repayments"), disbursed, settled, today)
    overdue = _overdue_check(errors, i, get("overdue"), disbursed, settled, today)
    if principal is not None and pays is not None:
        repaid = sum((p.principal for p in pays), Decimal("0"))
        if repaid > principal:
            errors.add(
                i,
                "repayments",
                "over_repaid",
                _("已还本金合计 %(r)s 超过放款金额 %(p)s") % {"r": repaid, "p": principal},
            )
        elif settled and repaid != principal:
            errors.add(
                i,
                "settled_on",
                "not_repaid",
                _("已结清的贷款须还清本金：放款 %(p)s，已还本金合计 %(r)s，尚欠 %(o)s")
                % {"p": principal, "r": repaid, "o": principal - repaid},
            )
        elif not settled and repaid == principal:
            errors.add(
                i,
                "settled_on",
                "missing",
                _("本金已全部还清（%(p)s），请填写结清日期") % {"p": principal},
            )
        if settled and pays and max(p.paid_on for p in pays) > settled:
            errors.add(
                i,
                "settled_on",
                "before_last_repayment",
                _("结清日期 %(s)s 早于最后一笔还款日期 %(l)s")
                % {"s": settled, "l": max(p.paid_on for p in pays)},
            )
    if len(errors.items) > before:
        return None
    assert principal is not None and rate is not None and pays is not None and overdue is not None
    assert applied and signed and disbursed and maturity
    return HistoryLoan(
        index=i,
        bank_loan_no=bank_no.strip(),
        uscc=uscc_codec.normalize(code),
        principal=principal,
        annual_rate=rate,
        repayment_method=str(method),
        applied_on=applied,
        contract_signed_on=signed,
        disbursed_on=disbursed,
        maturity_on=maturity,
        term_months=term,
        first_loan=first_loan,
        renewal=renewal,
        repayments=sorted(pays, key=lambda p: p.paid_on),
        overdue=sorted(overdue),
        defaulted_on=defaulted,
        settled_on=settled,
        product_code=product_code.strip(),
    )


def _repayments_check(
    errors: _Errors,
    i: int,
    raw: Any,
    disbursed: dt.date | None,
    settled: dt.date | None,
    today: dt.date,
) -> list[Paid] | None:
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        errors.add(
            i,
            "repayments",
            "invalid_list",
            _("应为还款记录的列表（最多 %(k)s 笔）") % {"k": MAX_LINES},
        )
        return None
    pays: list[Paid] = []
    ok = True
    for k, item in enumerate(raw):
        path = f"repayments[{k}]"
        if not _keys(errors, i, path, item, REPAYMENT_KEYS):
            ok = False
            continue
        day = _date(errors, i, f"{path}.paid_on", item["paid_on"])
        amount = _amount(errors, i, f"{path}.amount", item["amount"])
        principal = _amount(errors, i, f"{path}.principal", item["principal"], zero=True)
        interest = _amount(errors, i, f"{path}.interest", item["interest"], zero=True)
        if day is None or amount is None or principal is None or interest is None:
            ok = False
            continue
        if principal + interest != amount:
            errors.add(
                i,
                f"{path}.amount",
                "split_mismatch",
                _("还款金额 %(a)s 应等于本金 %(p)s 与利息 %(n)s 之和")
                % {"a": amount, "p": principal, "n": interest},
            )
            ok = False
        if disbursed is not None and not disbursed <= day <= today:
            errors.add(
                i,
                f"{path}.paid_on",
                "out_of_range",
                _("还款日期须在放款日期 %(d)s 与今天 %(t)s 之间，实际为 %(v)s")
                % {"d": disbursed, "t": today, "v": day},
            )
            ok = False
        pays.append(Paid(day, amount, principal, interest))
    return pays if ok else None


def _overdue_check(
    errors: _Errors,
    i: int,
    raw: Any,
    disbursed: dt.date | None,
    settled: dt.date | None,
    today: dt.date,
) -> list[tuple[dt.date, int]] | None:
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        errors.add(
            i,
            "overdue",
            "invalid_list",
            _("应为逾期记录的列表（最多 %(k)s 条）") % {"k": MAX_LINES},
        )
        return None
    records: list[tuple[dt.date, int]] = []
    ok = True
    for k, item in enumerate(raw):
        path = f"overdue[{k}]"
        if not _keys(errors, i, path, item, OVERDUE_KEYS):
            ok = False
            continue
        day = _date(errors, i, f"{path}.on", item["on"])
        days = item["days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            errors.add(
                i,
                f"{path}.days",
                "invalid",
                _("逾期天数应为正整数，实际为 %(v)s") % {"v": json.dumps(days)[:20]},
            )
            ok = False
            continue
        if day is None:
            ok = False
            continue
        if disbursed is not None and not disbursed < day <= today:
            errors.add(
                i,
                f"{path}.on",
                "out_of_range",
                _("逾期记录日期须晚于放款日期 %(d)s 且不晚于今天 %(t)s，实际为 %(v)s")
                % {"d": disbursed, "t": today, "v": day},
            )
            ok = False
        elif disbursed is not None and days > (day - disbursed).days:
            errors.add(
                i,
                f"{path}.days",
                "inconsistent",
                _("%(v)s 记录逾期 %(n)s 天，超过放款（%(d)s）以来的 %(k)s 天")
                % {"v": day, "n": days, "d": disbursed, "k": (day - disbursed).days},
            )
            ok = False
        if settled is not None and day is not None and day > settled:
            errors.add(
                i,
                f"{path}.on",
                "after_settlement",
                _("逾期记录日期 %(v)s 晚于结清日期 %(s)s") % {"v": day, "s": settled},
            )
            ok = False
        records.append((day, days))
    return records if ok else None


def digest_of(loan: HistoryLoan) -> str:
    """Return the SHA-256 of the loan's content in a canonical form (order of lists ignored)."""
    canon = {
        "bank_loan_no": loan.bank_loan_no,
        "uscc": loan.uscc,
        "principal": str(loan.principal),
        "annual_rate": str(loan.annual_rate),
        "repayment_method": loan.repayment_method,
        "applied_on": loan.applied_on.isoformat(),
        "contract_signed_on": loan.contract_signed_on.isoformat(),
        "disbursed_on": loan.disbursed_on.isoformat(),
        "maturity_on": loan.maturity_on.isoformat(),
        "first_loan": loan.first_loan,
        "renewal": loan.renewal,
        "repayments": sorted(
            [p.paid_on.isoformat(), str(p.amount), str(p.principal), str(p.interest)]
            for p in loan.repayments
        ),
        "overdue": sorted([d.isoformat(), n] for d, n in loan.overdue),
        "defaulted_on": loan.defaulted_on.isoformat() if loan.defaulted_on else None,
        "settled_on": loan.settled_on.isoformat() if loan.settled_on else None,
        "product_code": loan.product_code,
    }
    raw = json.dumps(canon, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- the schedule replayed


def replay(loan: HistoryLoan) -> Replay:
    """Apply the repayments to the platform's schedule, oldest instalment first: each
    repayment's interest pays scheduled interest and its principal pays scheduled principal,
    as the bank split them. An instalment is paid on the day both are covered; each repayment
    carries how late it was (days past due of the oldest unpaid instalment before it)."""
    lines = schedule(
        principal=loan.principal,
        annual_rate=loan.annual_rate,
        term_months=loan.term_months,
        method=loan.repayment_method,
        start=loan.disbursed_on,
    )
    last = lines[-1]
    if last.due_on != loan.maturity_on:  # the bank's maturity date is the contract's
        lines[-1] = Instalment(last.seq, loan.maturity_on, last.principal, last.interest)
    n = len(lines)
    zero = Decimal("0")
    state = Replay(lines, [zero] * n, [zero] * n, [None] * n)
    kp = ki = 0
    for pay in loan.repayments:
        state.late.append(state.overdue_days(pay.paid_on))
        left = pay.interest
        while left > 0 and ki < n:
            take = min(left, lines[ki].interest - state.interest_paid[ki])
            state.interest_paid[ki] += take
            left -= take
            if state.interest_paid[ki] == lines[ki].interest:
                ki += 1
        left = pay.principal
        while left > 0 and kp < n:
            take = min(left, lines[kp].principal - state.principal_paid[kp])
            state.principal_paid[kp] += take
            left -= take
            if state.principal_paid[kp] == lines[kp].principal:
                kp += 1
        # an instalment with nothing of one kind due is covered for that kind
        while ki < n and state.interest_paid[ki] == lines[ki].interest:
            ki += 1
        while kp < n and state.principal_paid[kp] == lines[kp].principal:
            kp += 1
        for k in range(min(ki, kp)):
            if state.paid_on[k] is None:
                state.paid_on[k] = pay.paid_on
    if loan.settled_on is not None:  # all principal is repaid; a shortfall of interest is waived
        for k in range(n):
            if state.paid_on[k] is None:
                state.paid_on[k] = loan.settled_on
    return state


# ---------------------------------------------------------------- the service


@dataclass
class _Plan:
    """What will be written for one new loan."""

    loan: HistoryLoan
    state: Replay
    status: str
    app_status: str
    outstanding: Decimal
    overdue_days: int
    max_overdue_days: int


def _plan(loan: HistoryLoan, today: dt.date) -> _Plan:
    state = replay(loan)
    repaid = sum((p.principal for p in loan.repayments), Decimal("0"))
    outstanding = loan.principal - repaid
    recorded = max((d for _on, d in loan.overdue), default=0)
    if loan.settled_on is not None:
        status, app_status, days = LoanStatus.SETTLED, ApplicationStatus.SETTLED, 0
    elif loan.defaulted_on is not None:
        status, app_status = LoanStatus.DEFAULTED, ApplicationStatus.DEFAULTED
        days = state.overdue_days(loan.defaulted_on) or recorded
    else:
        days = state.overdue_days(today)
        if days > 0:
            status, app_status = LoanStatus.OVERDUE, ApplicationStatus.OVERDUE
        elif loan.repayments:
            status, app_status = LoanStatus.CURRENT, ApplicationStatus.REPAYING
        else:
            status, app_status = LoanStatus.CURRENT, ApplicationStatus.DISBURSED
    return _Plan(
        loan=loan,
        state=state,
        status=status,
        app_status=app_status,
        outstanding=outstanding,
        overdue_days=days,
        max_overdue_days=max([days, recorded, *state.late]),
    )


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _history_product(institution: Organisation) -> tuple[Product, ProductVersion]:
    """Return the institution's placeholder product for loans imported without a product code:
    never on sale (下架), its one version's ranges cover any loan."""
    product, _created = Product.objects.get_or_create(
        code=f"{HISTORY_PRODUCT_PREFIX}{institution.pk}",
        defaults={
            "institution": institution,
            "name": _("存量贷款（历史导入）"),
            "status": ProductStatus.WITHDRAWN,
        },
    )
    if product.current_version_id is None:
        version = ProductVersion.objects.create(
            product=product,
            number=1,
            status=VersionStatus.SUPERSEDED,
            product_type=ProductType.CREDIT,
            amount_min=FEN,
            amount_max=AMOUNT_LIMIT - FEN,
            term_min_months=1,
            term_max_months=MAX_TERM_MONTHS,
            rate_min=Decimal("0"),
            rate_max=RATE_CEILING,
            repayment_methods=list(RepaymentMethod.values),
            description=_(
                "机构接入平台前发放、批量导入平台的存量贷款；不是在售产品，企业不能申请。"
            ),
        )
        product.current_version = version
        product.save(update_fields=["current_version", "updated_at"])
    assert product.current_version is not None
    return product, product.current_version


def _numbers(count: int) -> list[str]:
    """Return ``count`` new application numbers (SQ + date + 8 hex), none already used."""
    today = timezone.localdate().strftime("%Y%m%d")
    numbers: list[str] = []
    while len(numbers) < count:
        fresh = {
            f"{APPLICATION_PREFIX}{today}{secrets.token_hex(4).upper()}"
            for _k in range(count - len(numbers))
        } - set(numbers)
        taken = set(
            LoanApplication.objects.filter(number__in=fresh).values_list("number", flat=True)
        )
        numbers.extend(sorted(fresh - taken))
    return numbers


def _institution_check(institution: Organisation) -> None:
    if institution.kind not in LENDER_KINDS:
        raise PermissionDeniedError(
            "not_a_lender",
            _("只有银行、小额贷款公司可以导入历史贷款，“%(o)s”不是放贷机构")
            % {"o": institution.name},
            {"field": "institution"},
        )


def loans_check(
    *, institution: Organisation, loans: Any, today: dt.date | None = None
) -> tuple[list[HistoryLoan], dict[str, dict[str, Any]]]:
    """Check a call's loans against each other and the platform; raise with every error.

    Returns the new loans to write and, by ``bank_loan_no``, the loans already present with
    the same content."""
    today = today or timezone.localdate()
    if not isinstance(loans, list) or not loans:
        raise ApplicationError(
            "invalid_loan_history",
            _("loans 应为非空的贷款列表"),
            {"field": "loans"},
            status=422,
        )
    if len(loans) > MAX_LOANS:
        raise ApplicationError(
            "too_many_loans",
            _("每次最多导入 %(k)s 笔贷款，本次 %(n)s 笔：请分批提交（每批一个幂等键）")
            % {"k": MAX_LOANS, "n": len(loans)},
            {"field": "loans", "limit": MAX_LOANS},
            status=422,
        )
    errors = _Errors()
    checked = [_loan_check(errors, i, raw, today) for i, raw in enumerate(loans)]
    good = [loan for loan in checked if loan is not None]
    seen: dict[str, int] = {}
    for loan in good:
        if loan.bank_loan_no in seen:
            errors.add(
                loan.index,
                "bank_loan_no",
                "duplicate",
                _("借据号 %(n)s 与 loans[%(j)s] 重复")
                % {"n": loan.bank_loan_no, "j": seen[loan.bank_loan_no]},
            )
        else:
            seen[loan.bank_loan_no] = loan.index
        loan.digest = digest_of(loan)
    entities = {
        e.uscc: e
        for e in MarketEntity.objects.filter(uscc__in={loan.uscc for loan in good}).only(
            "pk", "uscc", "name"
        )
    }
    codes = {loan.product_code for loan in good if loan.product_code}
    products = {
        p.code: p
        for p in Product.objects.filter(code__in=codes, institution=institution).select_related(
            "current_version"
        )
    }
    existing = {
        row["bank_loan_no"]: row
        for row in Loan.objects.filter(institution=institution, bank_loan_no__in=list(seen)).values(
            "bank_loan_no", "history_digest", "number", "application__number", "status"
        )
    }
    present: dict[str, dict[str, Any]] = {}
    fresh: list[HistoryLoan] = []
    for loan in good:
        loan.entity = entities.get(loan.uscc)
        if loan.entity is None:
            errors.add(
                loan.index,
                "uscc",
                "unknown_entity",
                _("统一社会信用代码 %(c)s 的主体未在平台登记：请先登记主体") % {"c": loan.uscc},
            )
        if loan.product_code:
            loan.product = products.get(loan.product_code)
            if loan.product is None or loan.product.current_version is None:
                errors.add(
                    loan.index,
                    "product_code",
                    "unknown_product",
                    _("本机构没有产品代码为 %(c)s 的产品（不填则记入“存量贷款（历史导入）”）")
                    % {"c": loan.product_code},
                )
        stored = existing.get(loan.bank_loan_no)
        if stored is None:
            fresh.append(loan)
        elif stored["history_digest"] == loan.digest:
            present[loan.bank_loan_no] = dict(stored)
        else:
            how = (
                _("内容与已导入的不同")
                if stored["history_digest"]
                else _("该贷款已在平台上办理放款")
            )
            errors.add(
                loan.index,
                "bank_loan_no",
                "conflict",
                _("本机构已有借据号为 %(n)s 的贷款（%(p)s），%(h)s；导入不会覆盖已有贷款")
                % {"n": loan.bank_loan_no, "p": stored["number"], "h": how},
            )
    errors.raise_if_any()
    return fresh, present


@transaction.atomic
def loan_history_import(
    *,
    institution: Organisation,
    actor: User | None,
    loans: Any,
    via_api: bool = False,
) -> dict[str, Any]:
    """Import a lender's historical loans at once: all checked, then all written, or none.

    Returns ``received``, ``created``, ``present``, ``facts_batch`` (the datahub batch of the
    loan events, null when nothing new) and, per loan in the order sent, its ``result``
    (created / present), the platform's ``loan_no`` and ``application_no`` and ``status``.
    """
    _institution_check(institution)
    today = timezone.localdate()
    fresh, present = loans_check(institution=institution, loans=loans, today=today)
    plans = [_plan(loan, today) for loan in fresh]
    written: dict[str, dict[str, Any]] = {}
    batch_id = None
    if plans:
        rows, apps = _write(institution, actor, plans, via_api=via_api)
        batch_id = _facts_record(institution, plans, rows)
        written = {
            row.bank_loan_no: {
                "loan_no": row.number,
                "application_no": app.number,
                "status": row.status,
            }
            for row, app in zip(rows, apps, strict=True)
        }
    results: list[dict[str, Any]] = []
    for raw in loans:
        no = str(raw["bank_loan_no"]).strip()
        if no in written:
            results.append({"bank_loan_no": no, "result": "created", **written[no]})
        else:
            stored = present[no]
            results.append(
                {
                    "bank_loan_no": no,
                    "result": "present",
                    "loan_no": stored["number"],
                    "application_no": stored["application__number"],
                    "status": stored["status"],
                }
            )
    return {
        "received": len(loans),
        "created": len(written),
        "present": len(loans) - len(written),
        "facts_batch": batch_id,
        "loans": results,
    }


def _write(
    institution: Organisation, actor: User | None, plans: list[_Plan], *, via_api: bool
) -> tuple[list[Loan], list[LoanApplication]]:
    """Write applications, timeline events, loans, schedules, repayments and watches in bulk."""
    fallback: tuple[Product, ProductVersion] | None = None
    if any(p.loan.product is None for p in plans):
        fallback = _history_product(institution)
    numbers = _numbers(len(plans))
    now = timezone.now()
    apps: list[LoanApplication] = []
    for plan, number in zip(plans, numbers, strict=True):
        loan = plan.loan
        if loan.product is not None:
            product, version = loan.product, loan.product.current_version
        else:
            assert fallback is not None
            product, version = fallback
        assert loan.entity is not None and version is not None
        closed = loan.settled_on or (
            loan.defaulted_on if plan.status == LoanStatus.DEFAULTED else None
        )
        apps.append(
            LoanApplication(
                number=number,
                entity=loan.entity,
                product=product,
                product_version=version,
                institution=institution,
                authorisation=None,
                amount=loan.principal,
                term_months=loan.term_months,
                repayment_method=loan.repayment_method,
                status=plan.app_status,
                submitted_by=actor,
                submitted_at=_aware(loan.applied_on),
                approved_amount=loan.principal,
                approved_rate=loan.annual_rate,
                approved_term_months=loan.term_months,
                contract_signed_on=loan.contract_signed_on,
                closed_at=_aware(closed) if closed else None,
                imported=True,
            )
        )
    LoanApplication.objects.bulk_create(apps, batch_size=CHUNK)
    if any(a.pk is None for a in apps):  # a backend that does not return keys
        pks = dict(LoanApplication.objects.filter(number__in=numbers).values_list("number", "pk"))
        for app in apps:
            app.pk = pks[app.number]
    note = _(
        "机构导入的历史贷款：借据号 %(b)s，%(d)s 放款 %(a)s 元，%(m)s 到期，"
        "还款 %(r)s 笔；导入时%(s)s"
    )
    events_record(
        APPLICATION,
        (
            (
                app,
                note
                % {
                    "b": plan.loan.bank_loan_no,
                    "d": plan.loan.disbursed_on.isoformat(),
                    "a": plan.loan.principal,
                    "m": plan.loan.maturity_on.isoformat(),
                    "r": len(plan.loan.repayments),
                    "s": LoanStatus(plan.status).label,
                },
                {
                    "bank_loan_no": plan.loan.bank_loan_no,
                    "applied_on": plan.loan.applied_on.isoformat(),
                    "contract_signed_on": plan.loan.contract_signed_on.isoformat(),
                    "disbursed_on": plan.loan.disbursed_on.isoformat(),
                },
            )
            for plan, app in zip(plans, apps, strict=True)
        ),
        ApplicationEventKind.IMPORTED,
        actor=actor,
        created=True,
        event_fields={"organisation_id": institution.pk, "via_api": via_api, "created_at": now},
    )
    rows = [
        Loan(
            application=app,
            entity=plan.loan.entity,
            institution=institution,
            number=f"DK{app.number[len(APPLICATION_PREFIX) :]}",
            bank_loan_no=plan.loan.bank_loan_no,
            principal=plan.loan.principal,
            annual_rate=plan.loan.annual_rate,
            term_months=plan.loan.term_months,
            repayment_method=plan.loan.repayment_method,
            disbursed_on=plan.loan.disbursed_on,
            maturity_on=plan.loan.maturity_on,
            first_loan=plan.loan.first_loan,
            renewal=plan.loan.renewal,
            outstanding=plan.outstanding,
            overdue_days=plan.overdue_days,
            max_overdue_days=plan.max_overdue_days,
            status=plan.status,
            settled_on=plan.loan.settled_on,
            defaulted_on=plan.loan.defaulted_on,
            history_digest=plan.loan.digest,
        )
        for plan, app in zip(plans, apps, strict=True)
    ]
    try:
        with transaction.atomic():  # a concurrent import of the same 借据号 is a 409, not a 500
            Loan.objects.bulk_create(rows, batch_size=CHUNK)
    except IntegrityError as exc:
        raise ConflictError(
            "concurrent_import",
            _("另一请求正在导入相同借据号的贷款，请稍后用新的幂等键重试"),
            {"field": "loans"},
        ) from exc
    if any(r.pk is None for r in rows):
        pks = dict(
            Loan.objects.filter(number__in=[r.number for r in rows]).values_list("number", "pk")
        )
        for r in rows:
            r.pk = pks[r.number]
    LoanInstalment.objects.bulk_create(
        (
            LoanInstalment(
                loan_id=row.pk,
                seq=line.seq,
                due_on=line.due_on,
                principal_due=line.principal,
                interest_due=line.interest,
                principal_paid=plan.state.principal_paid[k],
                interest_paid=plan.state.interest_paid[k],
                paid_on=plan.state.paid_on[k],
            )
            for plan, row in zip(plans, rows, strict=True)
            for k, line in enumerate(plan.state.lines)
        ),
        batch_size=CHUNK * 2,
    )
    Repayment.objects.bulk_create(
        (
            Repayment(
                loan_id=row.pk,
                paid_on=pay.paid_on,
                amount=pay.amount,
                principal=pay.principal,
                interest=pay.interest,
                recorded_by=actor,
                created_at=now,
            )
            for plan, row in zip(plans, rows, strict=True)
            for pay in plan.loan.repayments
        ),
        batch_size=CHUNK * 2,
    )
    loan_watches_start(
        watches=[
            (row.entity_id, institution.pk, row.number)
            for row in rows
            if row.status in (LoanStatus.CURRENT, LoanStatus.OVERDUE)
        ]
    )
    return rows, apps


def _facts_record(institution: Organisation, plans: list[_Plan], rows: list[Loan]) -> int:
    """Record every event of the new loans as platform facts in one datahub batch."""
    events: list[dict[str, Any]] = []
    for plan, row in zip(plans, rows, strict=True):
        row.institution = institution
        events.extend(_events(row, plan))
    batch = platform_loan_events_record(
        rows=events,
        note=_("历史贷款导入：%(o)s %(n)s 笔") % {"o": institution.name, "n": len(plans)},
    )
    return int(batch.pk)


def _events(row: Loan, plan: _Plan) -> list[dict[str, Any]]:
    """Return the loan's events in date order, each with the balance after it."""
    loan = plan.loan
    timeline: list[tuple[dt.date, int, str, Decimal | None, int, Decimal]] = []
    balance = loan.principal
    timeline.append((loan.disbursed_on, 0, "disbursed", loan.principal, 0, balance))
    # balances after each repayment, to give overdue and default records the balance of their day
    after: list[tuple[dt.date, Decimal]] = []
    for pay, late in zip(loan.repayments, plan.state.late, strict=True):
        balance -= pay.principal
        after.append((pay.paid_on, balance))
        timeline.append((pay.paid_on, 1, "repaid", pay.amount, late, balance))

    def balance_on(day: dt.date) -> Decimal:
        value = loan.principal
        for paid_on, left in after:
            if paid_on > day:
                break
            value = left
        return value

    for day, days in loan.overdue:
        timeline.append((day, 2, "overdue", None, days, balance_on(day)))
    if loan.defaulted_on is not None:
        timeline.append(
            (
                loan.defaulted_on,
                3,
                "defaulted",
                None,
                plan.overdue_days,
                balance_on(loan.defaulted_on),
            )
        )
    if loan.settled_on is not None:
        timeline.append((loan.settled_on, 4, "settled", None, 0, Decimal("0")))
    events = []
    for day, _order, event, amount, days, left in sorted(timeline, key=lambda t: (t[0], t[1])):
        item = loan_event_row(row, event=event, on=day, amount=amount, overdue_days=days)
        item["outstanding"] = left
        events.append(item)
    return events


def loans_from_json(text: str | bytes, *, source: str = "") -> list[Any]:
    """Parse a file or body ``{"loans": [...]}`` (or a bare list) into the list of loans."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApplicationError(
            "invalid_json",
            _("%(s)s不是合法的 JSON：%(e)s") % {"s": source, "e": exc},
            {"field": "loans"},
            status=422,
        ) from exc
    if isinstance(data, Mapping):
        data = data.get("loans")
    if not isinstance(data, list):
        raise ApplicationError(
            "invalid_loan_history",
            _('应为 {"loans": [...]}：loans 为贷款列表'),
            {"field": "loans"},
            status=422,
        )
    return data
