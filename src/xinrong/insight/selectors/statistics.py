"""Statistics for government and regulators (统计分析): grouped figures straight from the database.

Every table is one grouped query per source (``GROUP BY`` the dimension key), restricted to the
reader's region and the chosen period; nothing is counted row by row in Python.

Figures and their definitions (docs/statistics.md repeats them for readers):

- 入驻企业: market entities with a platform organisation, by the organisation's creation time;
- 融资需求: demands published in the period; 已响应 = an institution took it or invited the
  enterprise (a ``taken``/``invited`` timeline event); 响应天数 = first such event − publication;
- 贷款申请: applications submitted in the period; 获批 = status at or past approval;
  审批用时 = decision time − submission time over approved applications (days);
- 放款: loans disbursed in the period (count, amount, amount-weighted average rate, 首贷, 续贷);
- 逾期 / 不良: of those loans, the ones now overdue (status 逾期) and non-performing (status 违约
  or more than 90 days overdue), with their outstanding balance.

Dimensions: region (prefecture, or county below a prefecture), institution, product, industry
(GB/T 4754 section) and month (Beijing time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import region_prefix_for
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    ApplicationStatus,
    DemandEventKind,
    LoanStatus,
    ProductStatus,
)
from xinrong.marketplace.models import Demand, Loan, LoanApplication, Product
from xinrong.reference import divisions, industries

DIMENSIONS = ("region", "institution", "product", "industry", "month")
APPROVED_STATUSES = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.CONTRACT_SIGNED,
    ApplicationStatus.DISBURSED,
    ApplicationStatus.REPAYING,
    ApplicationStatus.SETTLED,
    ApplicationStatus.OVERDUE,
    ApplicationStatus.DEFAULTED,
)
ANSWER_KINDS = (DemandEventKind.TAKEN, DemandEventKind.INVITED)
NPL_OVERDUE_DAYS = 90
CENT = Decimal("0.01")
_MONEY = DecimalField(max_digits=24, decimal_places=4)


@dataclass(frozen=True)
class Filters:
    """The reader's choice: period (Beijing dates, inclusive), region code, one institution."""

    date_from: dt.date
    date_to: dt.date
    region: str = divisions.PLATFORM_ROOT
    institution_id: int | None = None


@dataclass
class Row:
    """One line of a statistics table (any figure not asked stays at zero)."""

    key: str
    label: str
    drill: str = ""  # a region code to drill into, if any
    registrations: int = 0
    demands: int = 0
    demands_answered: int = 0
    answer_seconds: float = 0.0
    applications: int = 0
    approvals: int = 0
    approval_seconds: float = 0.0
    approvals_timed: int = 0
    loans: int = 0
    amount: Decimal = Decimal("0.00")
    rate_weight: Decimal = Decimal("0")
    first_loans: int = 0
    renewals: int = 0
    overdue: int = 0
    overdue_balance: Decimal = Decimal("0.00")
    npl: int = 0
    npl_balance: Decimal = Decimal("0.00")

    @property
    def answered_share(self) -> Decimal | None:
        return _pct(self.demands_answered, self.demands)

    @property
    def days_to_answer(self) -> Decimal | None:
        return _days(self.answer_seconds, self.demands_answered)

    @property
    def approval_share(self) -> Decimal | None:
        return _pct(self.approvals, self.applications)

    @property
    def days_to_approve(self) -> Decimal | None:
        return _days(self.approval_seconds, self.approvals_timed)

    @property
    def average_rate(self) -> Decimal | None:
        if not self.amount:
            return None
        return (self.rate_weight / self.amount).quantize(CENT, ROUND_HALF_UP)

    @property
    def npl_ratio(self) -> Decimal | None:
        return _pct(self.npl, self.loans)

    def add(self, other: Row) -> None:
        for name in _ADDITIVE:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_ADDITIVE = [
    n
    for n in Row.__dataclass_fields__
    if n not in ("key", "label", "drill")  # every figure is a sum or a count
]


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _days(seconds: float, n: int) -> Decimal | None:
    if not n:
        return None
    return (Decimal(str(seconds)) / 86400 / n).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Table:
    """One dimension's rows and their total."""

    dimension: str
    rows: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row(key="total", label=_("合计")))


# --- scope ------------------------------------------------------------------------------------


def effective_prefix(user: Any, region: str) -> str:
    """The division prefix the figures are confined to: the reader's region ∩ the chosen one."""
    own = region_prefix_for(user) or ""
    try:
        chosen = divisions.descendants_prefix(region) if region else ""
    except ValueError:
        chosen = ""
    if chosen.startswith(own):
        return chosen
    return own


def region_key_length(prefix: str) -> int:
    """Group by prefecture (4 digits) at province level, else by county (6 digits)."""
    return 4 if len(prefix) <= 2 else 6


def _bounds(f: Filters) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(f.date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


# --- the grouped queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where a source model keeps the columns the dimensions group by."""

    division: str
    industry: str
    institution: str | None
    product: str | None
    date: str


_LOANS = _Source(
    "entity__division_code",
    "entity__industry_code",
    "institution_id",
    "application__product_id",
    "disbursed_on",
)
_APPS = _Source(
    "entity__division_code", "entity__industry_code", "institution_id", "product_id", "submitted_at"
)
_DEMANDS = _Source("division_code", "entity__industry_code", None, None, "created_at")
_ENTITIES = _Source("division_code", "industry_code", None, None, "organisation__created_at")


def _key(source: _Source, dimension: str, prefix: str) -> Any:
    if dimension == "region":
        return Substr(source.division, 1, region_key_length(prefix))
    if dimension == "industry":
        return Substr(source.industry, 1, 1)
    if dimension == "institution":
        return F(source.institution) if source.institution else None
    if dimension == "product":
        return F(source.product) if source.product else None
    if dimension == "month":
        return TruncMonth(source.date)
    raise ValueError(dimension)


def _scoped(qs: QuerySet[Any], source: _Source, f: Filters, prefix: str) -> QuerySet[Any]:
    if prefix:
        qs = qs.filter(**{f"{source.division}__startswith": prefix})
    if f.institution_id is not None and source.institution:
        qs = qs.filter(**{source.institution: f.institution_id})
    if source.date == "disbursed_on":
        return qs.filter(disbursed_on__gte=f.date_from, disbursed_on__lte=f.date_to)
    start, end = _bounds(f)
    return qs.filter(**{f"{source.date}__gte": start, f"{source.date}__lt": end})


def _grouped(
    qs: QuerySet[Any], source: _Source, dimension: str, prefix: str, **aggregates: Any
) -> Iterable[dict[str, Any]]:
    key = _key(source, dimension, prefix)
    if key is None:
        return []
    grouped: Iterable[dict[str, Any]] = (
        qs.annotate(k=key).values("k").annotate(**aggregates).order_by()
    )
    return grouped


def _row(rows: dict[Any, Row], key: Any) -> Row:
    k = _key_text(key)
    if k not in rows:
        rows[k] = Row(key=k, label="")
    return rows[k]


def _key_text(key: Any) -> str:
    if isinstance(key, dt.datetime):
        return (
            timezone.localtime(key).strftime("%Y-%m")
            if timezone.is_aware(key)
            else key.strftime("%Y-%m")
        )
    if isinstance(key, dt.date):
        return key.strftime("%Y-%m")
    return "" if key is None else str(key)


def _seconds(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite without a converter: microseconds


def _money(value: Any) -> Decimal:
    return Decimal("0.00") if value is None else Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def loan_figures(rows: dict[str, Row], f: Filters, prefix: str, dimension: str) -> None:
    """Disbursements, first loans, renewals, overdue and non-performing, grouped."""
    qs = _scoped(Loan.objects.all(), _LOANS, f, prefix)
    npl = Q(status=LoanStatus.DEFAULTED) | Q(overdue_days__gt=NPL_OVERDUE_DAYS)
    for g in _grouped(
        qs,
        _LOANS,
        dimension,
        prefix,
        n=Count("id"),
        amount=Sum("principal"),
        weight=Sum(ExpressionWrapper(F("principal") * F("annual_rate"), output_field=_MONEY)),
        first=Count("id", filter=Q(first_loan=True)),
        renew=Count("id", filter=Q(renewal=True)),
        od=Count("id", filter=Q(status=LoanStatus.OVERDUE)),
        od_bal=Sum("outstanding", filter=Q(status=LoanStatus.OVERDUE)),
        npl=Count("id", filter=npl),
        npl_bal=Sum("outstanding", filter=npl),
    ):
        r = _row(rows, g["k"])
        r.loans += g["n"]
        r.amount += _money(g["amount"])
        r.rate_weight += Decimal(str(g["weight"] or 0))
        r.first_loans += g["first"]
        r.renewals += g["renew"]
        r.overdue += g["od"]
        r.overdue_balance += _money(g["od_bal"])
        r.npl += g["npl"]
        r.npl_balance += _money(g["npl_bal"])


def application_figures(rows: dict[str, Row], f: Filters, prefix: str, dimension: str) -> None:
    """Applications, approvals and approval time, grouped."""
    qs = _scoped(LoanApplication.objects.all(), _APPS, f, prefix)
    approved = Q(status__in=APPROVED_STATUSES)
    timed = approved & Q(decided_at__isnull=False)
    wait = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    for g in _grouped(
        qs,
        _APPS,
        dimension,
        prefix,
        n=Count("id"),
        ok=Count("id", filter=approved),
        timed=Count("id", filter=timed),
        wait=Sum(wait, filter=timed),
    ):
        r = _row(rows, g["k"])
        r.applications += g["n"]
        r.approvals += g["ok"]
        r.approvals_timed += g["timed"]
        r.approval_seconds += _seconds(g["wait"])


def demand_figures(rows: dict[str, Row], f: Filters, prefix: str, dimension: str) -> None:
    """Demands, the share answered and the days to the first answer, grouped.

    Two grouped queries: the demands; and the answered ones, each with its first answer
    (``MIN`` per demand, inner) summed per key (outer, wrapped around the ORM's own SQL).
    """
    if f.institution_id is not None:
        return  # a demand belongs to no institution until answered
    scoped = _scoped(Demand.objects.all(), _DEMANDS, f, prefix)
    for g in _grouped(scoped, _DEMANDS, dimension, prefix, n=Count("id")):
        _row(rows, g["k"]).demands += g["n"]
    key = _key(_DEMANDS, dimension, prefix)
    if key is None:
        return
    first = (
        scoped.filter(events__kind__in=ANSWER_KINDS)
        .annotate(k=key)
        .values("pk", "k", "created_at")
        .annotate(answered_at=Min("events__created_at"))
        .order_by()
    )
    inner, params = first.query.sql_with_params()
    if connection.vendor == "postgresql":
        wait = "EXTRACT(EPOCH FROM (sub.answered_at - sub.created_at))"
    else:
        wait = "(julianday(sub.answered_at) - julianday(sub.created_at)) * 86400.0"
    sql = f"SELECT sub.k, COUNT(*), SUM({wait}) FROM ({inner}) sub GROUP BY sub.k"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for k, n, seconds in cur.fetchall():
            r = _row(rows, _raw_key(k))
            r.demands_answered += n
            r.answer_seconds += float(seconds or 0)


def _raw_key(key: Any) -> Any:
    """A month key read without the ORM's converters (SQLite: "2026-01-01 00:00:00")."""
    if isinstance(key, str) and len(key) >= 10 and key[4] == "-" and key[7] == "-":
        return dt.date.fromisoformat(key[:10])
    return key


def registration_figures(rows: dict[str, Row], f: Filters, prefix: str, dimension: str) -> None:
    """Enterprises that joined the platform in the period, grouped."""
    if f.institution_id is not None:
        return
    qs = _scoped(MarketEntity.objects.filter(organisation__isnull=False), _ENTITIES, f, prefix)
    for g in _grouped(qs, _ENTITIES, dimension, prefix, n=Count("id")):
        _row(rows, g["k"]).registrations += g["n"]


FIGURES = (registration_figures, demand_figures, application_figures, loan_figures)


# --- the summary of past complete months ------------------------------------------------------


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def split_period(
    f: Filters, through: dt.date | None
) -> tuple[tuple[dt.date, dt.date] | None, list[Filters]]:
    """The complete months of the period the summary holds (first day, first day after) and the
    rest of the period, to be computed live (at most a head and a tail)."""
    if through is None:
        return None, [f]
    first = f.date_from if f.date_from.day == 1 else _next_month(f.date_from)
    after_to = f.date_to + dt.timedelta(days=1)
    end = min(through, after_to if after_to.day == 1 else after_to.replace(day=1))
    if first >= end:
        return None, [f]
    live = []
    if f.date_from < first:
        live.append(replace(f, date_to=first - dt.timedelta(days=1)))
    if end <= f.date_to:
        live.append(replace(f, date_from=end))
    return (first, end), live


def summary_through() -> dt.date | None:
    """The first month the summary does not hold (None: never refreshed)."""
    from xinrong.insight.models import StatisticsSummaryState

    through: dt.date | None = (
        StatisticsSummaryState.objects.order_by("-refreshed_at")
        .values_list("through", flat=True)
        .first()
    )
    return through


def summary_refreshed_at() -> dt.datetime | None:
    """When the summary of finished months was last refreshed (None: never)."""
    from xinrong.insight.models import StatisticsSummaryState

    at: dt.datetime | None = (
        StatisticsSummaryState.objects.order_by("-refreshed_at")
        .values_list("refreshed_at", flat=True)
        .first()
    )
    return at


CELL_FIGURES = (
    "registrations",
    "demands",
    "demands_answered",
    "answer_seconds",
    "applications",
    "approvals",
    "approvals_timed",
    "approval_seconds",
    "loans",
    "amount",
    "rate_weight",
    "first_loans",
    "renewals",
    "overdue",
    "overdue_balance",
    "npl",
    "npl_balance",
)
_CELL_MONEY = ("amount", "overdue_balance", "npl_balance")


def summary_figures(
    rows: dict[str, Row], f: Filters, prefix: str, dimension: str, months: tuple[dt.date, dt.date]
) -> None:
    """Every figure of the months ``[start, end)`` from the summary's cells, one grouped query."""
    from xinrong.insight.models import StatisticsCell, StatisticsGrain

    # The smallest grain that keeps the dimension and the filter: county × industry when no
    # institution is involved (every source); else institution × product or × industry, which
    # hold applications and loans only (demands and registrations belong to no institution).
    grain = StatisticsGrain.COUNTY_INDUSTRY
    if dimension in ("institution", "product") or f.institution_id is not None:
        grain = (
            StatisticsGrain.LENDER_INDUSTRY
            if dimension == "industry"
            else StatisticsGrain.LENDER_PRODUCT
        )
    qs = StatisticsCell.objects.filter(grain=grain, month__gte=months[0], month__lt=months[1])
    if prefix:
        qs = qs.filter(division_code__startswith=prefix)
    if f.institution_id is not None:
        qs = qs.filter(institution_id=f.institution_id)
    key: Any = {
        "region": Substr("division_code", 1, region_key_length(prefix)),
        "industry": F("industry"),
        "institution": F("institution_id"),
        "product": F("product_id"),
        "month": F("month"),
    }[dimension]
    sums = {name: Sum(name) for name in CELL_FIGURES}
    for grouped in qs.annotate(k=key).values("k").annotate(**sums).order_by():
        g: dict[str, Any] = dict(grouped)
        r = _row(rows, g["k"])
        for name in CELL_FIGURES:
            value = g[name] or 0
            if name in _CELL_MONEY:
                value = _money(value)
            elif name == "rate_weight":
                value = Decimal(str(value))
            elif name.endswith("seconds"):
                value = float(value)
            setattr(r, name, getattr(r, name) + value)


def table(user: Any, f: Filters, dimension: str, *, live: bool = False) -> Table:
    """Every figure grouped by one dimension, within the reader's region and the period.

    The complete months the summary holds are read from it; the rest of the period (the current
    month, a partial first or last month) is computed live. ``live=True`` computes it all live.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    prefix = effective_prefix(user, f.region)
    rows: dict[str, Row] = {}
    months, rest = split_period(f, None if live else summary_through())
    if months is not None:
        summary_figures(rows, f, prefix, dimension, months)
    for part in rest:
        for fn in FIGURES:
            fn(rows, part, prefix, dimension)
    out = Table(dimension=dimension)
    _label(dimension, rows, prefix)
    out.rows = sorted(rows.values(), key=lambda r: _order(dimension, r))
    for r in out.rows:
        out.total.add(r)
    return out


def totals(user: Any, f: Filters, *, live: bool = False) -> Row:
    """The period's totals (the month table's total: every row has a month)."""
    return table(user, f, "month", live=live).total


def _order(dimension: str, r: Row) -> Any:
    if dimension in ("month", "region", "industry"):
        return (r.key == "", r.key)
    return (-r.amount, -r.loans, r.label)


def _label(dimension: str, rows: dict[str, Row], prefix: str) -> None:
    if dimension == "region":
        for r in rows.values():
            code = r.key.ljust(6, "0")
            d = divisions.get(code)
            r.label = d.name if d else (_("地区不详") if not r.key else code)
            if len(prefix) <= 2 and d is not None:
                r.drill = code
    elif dimension == "industry":
        names = {s.code: s.name for s in industries.sections()}
        for r in rows.values():
            r.label = names.get(r.key, _("行业不详"))
    elif dimension == "institution":
        orgs = Organisation.objects.filter(pk__in=_ints(rows)).values_list("pk", "name")
        org_names: dict[int, str] = dict(orgs)
        for r in rows.values():
            r.label = org_names.get(int(r.key), "") if r.key.isdigit() else _("机构不详")
    elif dimension == "product":
        pnames: dict[int, str] = dict(
            Product.objects.filter(pk__in=_ints(rows)).values_list("pk", "name")
        )
        for r in rows.values():
            r.label = pnames.get(int(r.key), "") if r.key.isdigit() else _("未经平台产品")
    else:
        for r in rows.values():
            r.label = r.key.replace("-", "年", 1) + "月" if r.key else _("时间不详")


def _ints(rows: dict[str, Row]) -> list[int]:
    return [int(k) for k in rows if k.isdigit()]


# --- the summary cards ----------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """Counts that have no period: institutions and products on the platform now."""

    institutions: int
    products: int


def overview(user: Any, f: Filters) -> Overview:
    """Institutions on the platform and their products on the shelf (the chosen one's only)."""
    orgs = Organisation.objects.filter(kind__in=INSTITUTION_KINDS)
    products = Product.objects.filter(status=ProductStatus.PUBLISHED)
    if f.institution_id is not None:
        orgs = orgs.filter(pk=f.institution_id)
        products = products.filter(institution_id=f.institution_id)
    return Overview(institutions=orgs.count(), products=products.count())


def institution_choices() -> list[tuple[int, str]]:
    """The institutions a reader may pick (all lenders on the platform)."""
    return list(
        Organisation.objects.filter(kind__in=INSTITUTION_KINDS)
        .order_by("name")
        .values_list("pk", "name")
    )


# --- the home-page card -----------------------------------------------------------------------


def statistics_card(user: Any) -> dict[str, Any] | None:
    """This year's headline figures for the government and operator home pages (None: not theirs).

    Not cached: they are the dashboard's totals for the same period, read from the summary of
    finished months plus the current month live (36 ms at province scale, docs/performance.md),
    so the home page and the statistics page always show the same figures.
    """
    from xinrong.accounts.permissions import can

    if not can(user, "insight.statistics_view"):
        return None
    today = timezone.localdate()
    t = totals(user, Filters(date_from=dt.date(today.year, 1, 1), date_to=today))
    return {
        "year": today.year,
        "loans": t.loans,
        "amount": t.amount,
        "first_loans": t.first_loans,
        "answered_share": t.answered_share,
        "npl": t.npl,
    }
