"""The scoring features: one column-wise matrix for all entities, built from registry and facts.

Every feature is one NumPy column aligned to the sorted entity ids. Each is filled by a handful
of aggregate SQL queries per category (``GROUP BY entity``, or a window ranking for "latest"
values), never by a per-entity loop. Only facts an institution may see count: facts of completed
batches, negative facts within their 5-year retention at ``as_of``, and no repaired facts.
Missing information stays NaN; the scorecard gives "missing" its own bin.

Periods are "YYYY-MM" (a month) or "YYYY" (a year). A year's row counts only once the year has
ended (``scorable_facts``). Counts of events (penalties, cases, patents) are 0 without a row; a
measure of a delivered series (tax paid, bills, headcount, months in arrears) is NaN when no
row states it. docs/credit-scoring.md ("Missing values in the data") has the rule per feature.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Concat, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_
from django.utils.translation import pgettext_lazy

from xinrong.credit.choices import RepairStatus
from xinrong.credit.models import RepairApplication
from xinrong.credit.scorecard import SEGMENT_COLUMN
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity, Relationship

# Dimensions of the portrait radar, in display order.
DIMENSIONS: dict[str, Any] = {
    "basic": _("基本信息"),
    "operation": _("经营状况"),
    "tax": _("纳税"),
    "compliance": _("合规"),
    "judicial": _("司法"),
    "related": pgettext_lazy("credit dimension", "关联"),
}

TAX_GRADE_VALUE = {"A": 5.0, "B": 4.0, "M": 3.0, "C": 2.0, "D": 1.0}


ALL_KINDS: tuple[str, ...] = (EntityType.ENTERPRISE.value, EntityType.INDIVIDUAL_BUSINESS.value)
ENTERPRISES_ONLY: tuple[str, ...] = (EntityType.ENTERPRISE.value,)


@dataclass(frozen=True)
class Feature:
    """One scoring feature: what it means, where it belongs, whether the enterprise can move it."""

    name: str
    label: str  # Chinese, gettext_noop'd
    dimension: str
    unit: str = ""
    # "ascending": more is riskier; "descending": more is safer (the binning's monotonic trend)
    trend: str = "auto_asc_desc"
    # whether the enterprise can change it by its own conduct (improvement guidance)
    actionable: bool = False
    advice: str = ""  # what to do, when actionable
    # a value above 0 records adverse conduct (arrears, penalties, cases, 失信…): when it costs
    # points it is always named as a reason, and actionable ones are cleared, not stepped
    negative: bool = False
    # the kinds of entity (EntityType values) the feature speaks about: a feature that does not
    # apply to an entity's kind (patents for a noodle shop) is never one of its reasons
    applies_to: tuple[str, ...] = ALL_KINDS


FEATURES: tuple[Feature, ...] = (
    Feature("years_in_business", N_("经营年限"), "basic", N_("年"), "descending"),
    Feature(
        "registered_capital",
        N_("注册资本"),
        "basic",
        N_("万元"),
        "descending",
        applies_to=ENTERPRISES_ONLY,
    ),
    Feature("employees", N_("从业人数"), "basic", N_("人"), "descending"),
    Feature(
        "insured_headcount",
        N_("参保人数"),
        "operation",
        N_("人"),
        "descending",
        True,
        N_("为员工足额缴纳社会保险"),
    ),
    Feature("insured_trend", N_("参保人数变化（12个月）"), "operation", "", "descending"),
    Feature("utility_billed_12m", N_("近12个月水电气费用"), "operation", N_("万元"), "descending"),
    Feature(
        "ip_count",
        N_("专利与商标数"),
        "operation",
        N_("件"),
        "descending",
        applies_to=ENTERPRISES_ONLY,
    ),
    Feature(
        "procurement_36m",
        N_("近3年政府采购合同数"),
        "operation",
        N_("份"),
        "descending",
        applies_to=ENTERPRISES_ONLY,
    ),
    Feature(
        "honours",
        N_("荣誉与资质数"),
        "operation",
        N_("项"),
        "descending",
        applies_to=ENTERPRISES_ONLY,
    ),
    Feature("platform_loans", N_("平台累计贷款笔数"), "operation", N_("笔"), "descending"),
    Feature(
        "platform_loan_months", N_("首笔平台贷款至今月数"), "operation", N_("个月"), "descending"
    ),
    Feature("platform_settled_share", N_("平台贷款结清比例"), "operation", "", "descending"),
    Feature(
        "tax_paid_12m",
        N_("近12个月纳税额"),
        "tax",
        N_("万元"),
        "descending",
        True,
        N_("依法足额申报纳税"),
    ),
    Feature("tax_trend", N_("纳税额变化（同比）"), "tax", "", "descending"),
    Feature(
        "tax_grade",
        N_("纳税信用等级"),
        "tax",
        "",
        "descending",
        True,
        N_("按期申报、补齐欠税，申请纳税信用复评"),
    ),
    Feature(
        "tax_arrears_months",
        N_("近24个月欠税月数"),
        "tax",
        N_("个月"),
        "ascending",
        True,
        N_("清缴欠税"),
        negative=True,
    ),
    Feature(
        "utility_arrears_months",
        N_("水电气欠费月数"),
        "compliance",
        N_("个月"),
        "ascending",
        True,
        N_("结清水电气欠费"),
        negative=True,
    ),
    Feature(
        "social_arrears_months",
        N_("近24个月社保欠费月数"),
        "compliance",
        N_("个月"),
        "ascending",
        True,
        N_("补缴社会保险欠费"),
        negative=True,
    ),
    Feature(
        "loan_overdue_days_24m",
        N_("近24个月平台贷款最长逾期天数"),
        "compliance",
        N_("天"),
        "ascending",
        True,
        N_("按期还本付息，逾期后尽快归还"),
        negative=True,
    ),
    Feature(
        "loan_defaults_5y",
        N_("近5年平台贷款违约笔数"),
        "compliance",
        N_("笔"),
        "ascending",
        negative=True,
    ),
    Feature(
        "penalties_general",
        N_("一般行政处罚数"),
        "compliance",
        N_("次"),
        "ascending",
        negative=True,
    ),
    Feature(
        "penalties_serious",
        N_("严重行政处罚数"),
        "compliance",
        N_("次"),
        "ascending",
        negative=True,
    ),
    Feature(
        "abnormal_listed",
        N_("列入经营异常名录"),
        "compliance",
        "",
        "ascending",
        True,
        N_("履行年报、公示等义务后申请移出经营异常名录"),
        negative=True,
    ),
    Feature(
        "cases_defendant_36m",
        N_("近3年被诉/被执行案件数"),
        "judicial",
        N_("件"),
        "ascending",
        negative=True,
    ),
    Feature(
        "case_amount_36m", N_("近3年涉案金额"), "judicial", N_("万元"), "ascending", negative=True
    ),
    Feature(
        "dishonest",
        N_("失信被执行人"),
        "judicial",
        "",
        "ascending",
        True,
        N_("履行生效法律文书确定的义务，申请移出失信名单"),
        negative=True,
    ),
    Feature(
        "related_negative",
        N_("关联主体负面信息数"),
        "related",
        N_("家"),
        "ascending",
        negative=True,
    ),
)
FEATURES_BY_NAME = {f.name: f for f in FEATURES}


def _months_back(day: dt.date, months: int) -> str:
    """Return the "YYYY-MM" period ``months`` before ``day``'s month."""
    index = day.year * 12 + (day.month - 1) - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# A monthly period ("YYYY-MM") holds a dash; a yearly one ("YYYY") does not. Every window on
# monthly rows says MONTHLY, because "YYYY" and "YYYY-MM" do not compare as text by time.
MONTHLY = Q(period__contains="-")
# A period's last month, the key "latest" orders by: "2025" ends with "2025-12"; at the same
# month a monthly row is the more precise and ranks first.
_PERIOD_END = Case(
    When(MONTHLY, then=F("period")),
    default=Concat(F("period"), Value("-12")),
    output_field=CharField(),
)
_MONTHLY_FIRST = Case(When(MONTHLY, then=Value(1)), default=Value(0), output_field=IntegerField())


@dataclass(frozen=True)
class _Windows:
    """The periods a feature built at ``day`` looks at.

    Monthly rows: the 12 complete months before ``day``'s month (``after12`` < period <=
    ``month``, the month before ``day``'s), the 12 before them, and 24 months for arrears. The
    running month is left out: no department has delivered it yet, and counting it would compare
    11 months (or 3 quarters) with 12 (or 4) a year before and show every firm's tax falling.
    Yearly rows: the years that have ended, the latest first (``years[0]`` is last year); a
    yearly figure is used when it is not older than two years (last year, else the year
    before), since yearly data is delivered late.
    """

    month: str
    after12: str  # exclusive lower bound of the last 12 months
    after24: str
    first12: str  # the first month of the last 12 months
    first24: str
    years: tuple[str, str, str]  # last year, the one before, the one before that

    @classmethod
    def at(cls, day: dt.date) -> _Windows:
        y = day.year
        return cls(
            month=_months_back(day, 1),
            after12=_months_back(day, 13),
            after24=_months_back(day, 25),
            first12=_months_back(day, 12),
            first24=_months_back(day, 24),
            years=(f"{y - 1:04d}", f"{y - 2:04d}", f"{y - 3:04d}"),
        )

    @property
    def in12(self) -> Q:
        return MONTHLY & Q(period__gt=self.after12, period__lte=self.month)

    @property
    def before12(self) -> Q:
        return MONTHLY & Q(period__gt=self.after24, period__lte=self.after12)

    @property
    def in24(self) -> Q:
        return MONTHLY & Q(period__gt=self.after24, period__lte=self.month)

    @property
    def arrears_years(self) -> tuple[str, ...]:
        """Ended years whose last month is within the last 24 months."""
        return tuple(y for y in self.years[:2] if f"{y}-12" > self.after24)


def _wan(value: Decimal | float | None) -> float:
    return float(value) / 10_000 if value is not None else np.nan


class _Columns:
    """Feature columns aligned to sorted entity ids."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids
        self.data: dict[str, np.ndarray] = {}

    def put(
        self,
        name: str,
        rows: Iterable[tuple[Any, ...]],
        convert: Callable[[Any], float] = float,
        default: float = 0.0,
    ) -> None:
        """Set a column from (entity_id, value) rows; entities without a row get ``default``."""
        col = np.full(len(self.ids), default, dtype=np.float64)
        pairs = [(eid, v) for eid, v in rows if v is not None]
        if pairs:
            eids = np.fromiter((p[0] for p in pairs), np.int64, len(pairs))
            vals = np.fromiter((convert(p[1]) for p in pairs), np.float64, len(pairs))
            pos = np.searchsorted(self.ids, eids)
            ok = (pos < len(self.ids)) & (self.ids[np.minimum(pos, len(self.ids) - 1)] == eids)
            col[pos[ok]] = vals[ok]
        self.data[name] = col

    def put_frame(self, name: str, eids: Any, values: Any, default: float = np.nan) -> None:
        """Set a column from aligned arrays of entity ids and values (NaN: missing); entities
        without a value get ``default``."""
        col = np.full(len(self.ids), default, dtype=np.float64)
        ids = np.asarray(eids, dtype=np.int64)
        vals = np.asarray(values, dtype=np.float64)
        if len(ids) and len(self.ids):
            pos = np.searchsorted(self.ids, ids)
            ok = (pos < len(self.ids)) & (self.ids[np.minimum(pos, len(self.ids) - 1)] == ids)
            col[pos[ok]] = vals[ok]
        self.data[name] = col


def exclude_repaired(facts: QuerySet[Fact]) -> QuerySet[Fact]:
    """Return ``facts`` without those whose credit repair was approved (one NOT EXISTS).

    A repaired penalty stops being shown publicly and stops counting in the score; the feature
    builder and the graph's risk flags drop it through this one filter (the archive, which
    lists facts already loaded, uses ``selectors.repaired_fact_ids``).
    """
    return facts.exclude(
        Exists(
            RepairApplication.objects.filter(fact_id=OuterRef("pk"), status=RepairStatus.APPROVED)
        )
    )


def scorable_facts(*, as_of: dt.date, exclude_ids: Iterable[int] = ()) -> QuerySet[Fact]:
    """Facts that count in the score at ``as_of``: visible, within retention, not repaired, not
    excluded, and about that date or earlier (so a past ``as_of`` rebuilds the score as it was)."""
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    qs = fact_visible().filter(
        Q(negative=False) | Q(retention_until__isnull=True) | Q(retention_until__gte=as_of),
        # a month counts from that month on (as always); a year only once it has ended: the
        # current year's figures are not known (and not published) before the year is over, so
        # a past ``as_of`` (a training snapshot) never sees a year still running at that date
        Q(period="") | (Q(period__lte=month) & ~Q(period=f"{as_of.year:04d}")),
        Q(occurred_on__isnull=True) | Q(occurred_on__lte=as_of),
    )
    qs = exclude_repaired(qs)  # approved credit repairs take a penalty out of the score
    excluded = list(exclude_ids)
    if excluded:
        qs = qs.exclude(pk__in=excluded)
    return qs


def _latest(qs: QuerySet[Fact], field: str) -> list[tuple[int, Any]]:
    """Return (entity, ``field``) of each entity's latest row, by the end of its period (a
    year ends in its December; a month at the same time ranks first), then the newest."""
    ranked = (
        qs.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("entity_id")],
                order_by=[_PERIOD_END.desc(), _MONTHLY_FIRST.desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
        .values_list("entity_id", field)
    )
    return list(ranked)


def _tax_grade_rows(facts: QuerySet[Fact]) -> list[tuple[int, Any]]:
    """Return (entity, grade letter) of each entity's latest graded tax fact."""
    return _latest(facts.filter(category="tax").exclude(grade=""), "grade")


def tax_grades(*, entity_ids: Iterable[int], as_of: dt.date | None = None) -> dict[int, str]:
    """Return the latest tax credit grade (A/B/M/C/D) of a few entities as of a day.

    The same rule as the ``tax_grade`` feature, without building the whole matrix (product
    eligibility needs only this one fact).
    """
    day = as_of or timezone.localdate()
    facts = scorable_facts(as_of=day).filter(entity_id__in=sorted(set(entity_ids)))
    return {eid: grade for eid, grade in _tax_grade_rows(facts) if grade in TAX_GRADE_VALUE}


def feature_matrix(
    *,
    entity_ids: Iterable[int] | None = None,
    as_of: dt.date | None = None,
    exclude_fact_ids: Iterable[int] = (),
    province: str | None = None,
) -> pd.DataFrame:
    """Return the feature matrix (index: entity id, one float column per feature, and the
    ``entity_type`` column (``SEGMENT_COLUMN``), which segments the model and is no feature).

    ``exclude_fact_ids`` are facts that must not count (repaired penalties). ``province`` (two
    digits) confines it to one province's entities, reading that partition of the facts only
    (a per-province scoring task, docs/scaling.md).
    """
    day = as_of or timezone.localdate()
    entities = MarketEntity.objects.order_by("pk")
    if province is not None:
        entities = entities.filter(division_code__startswith=province)
    wanted: list[int] | None = None
    if entity_ids is not None:
        wanted = sorted(set(entity_ids))
        entities = entities.filter(pk__in=wanted)
    registry = list(
        entities.values_list(
            "pk", "established_on", "registered_capital", "employees", "entity_type"
        )
    )
    ids = np.fromiter((r[0] for r in registry), np.int64, len(registry))
    cols = _Columns(ids)
    cols.put(
        "years_in_business",
        ((r[0], (day - r[1]).days / 365.25 if r[1] else None) for r in registry),
        default=np.nan,
    )
    cols.put("registered_capital", ((r[0], r[2]) for r in registry), _wan, np.nan)
    cols.put("employees", ((r[0], r[3]) for r in registry), default=np.nan)

    facts = all_facts = scorable_facts(as_of=day, exclude_ids=exclude_fact_ids)
    if province is not None:
        facts = facts.filter(province=province)  # related entities may live elsewhere
    if wanted is not None:
        facts = facts.filter(entity_id__in=wanted)
    win = _Windows.at(day)
    d36 = day - dt.timedelta(days=3 * 365)

    def grouped(category: str, **aggregates: Any) -> list[dict[str, Any]]:
        rows = facts.filter(category=category).order_by().values("entity_id")
        return [dict(r) for r in rows.annotate(**aggregates)]

    def frame(category: str, *by: str, **aggregates: Any) -> pd.DataFrame:
        """Aggregates per entity (and ``by``) in one GROUP BY, numbers as float columns.

        The database casts the numbers to floats: Django's per-value Decimal converters would
        cost more than the query on hundreds of thousands of rows.
        """
        numeric = {k: v if k == "first" else Cast(v, FloatField()) for k, v in aggregates.items()}
        rows = (
            facts.filter(category=category)
            .order_by()
            .values("entity_id", *by)
            .annotate(**numeric)
            .values_list("entity_id", *by, *numeric)
        )
        out = pd.DataFrame(list(rows), columns=["entity_id", *by, *numeric])
        for name in numeric:
            if name != "first":
                out[name] = out[name].astype("float64")
        return out

    social = facts.filter(category="social_security", quantity__isnull=False)
    cols.put("insured_headcount", _latest(social, "quantity"), default=np.nan)
    monthly = social.filter(MONTHLY)
    latest_in12 = pd.Series(dict(_latest(monthly.filter(win.in12), "quantity")), dtype=float)
    earlier = pd.Series(
        dict(_latest(monthly.filter(period__lte=win.after12), "quantity")), dtype=float
    )
    df = frame(
        "social_security",
        **_arrears_aggregates(win),
        **{f"q{i}": Max("quantity", filter=Q(period=y)) for i, y in enumerate(win.years)},
    )
    cols.put_frame("social_arrears_months", df["entity_id"], _arrears_months(df, win))
    # the change over the last 12 months of a monthly series that reaches into them, else the
    # latest stated year's change on the year before
    by_month = (latest_in12 / earlier[earlier > 0] - 1.0).dropna()
    by_year = pd.Series(_yearly_change(df, "q"), index=df["entity_id"].to_numpy(dtype=np.int64))
    trend = by_month.combine_first(by_year).dropna()
    cols.put_frame("insured_trend", trend.index, trend.to_numpy())

    # bills per utility (water, electricity, gas: often delivered by different companies, one
    # monthly, another yearly), then added up per entity
    df = frame(
        "utility",
        "status",
        **_flow_aggregates("amount", win),
        m_arrears=Max("arrears", filter=win.in12),
        n_arrears=Count("arrears", filter=win.in12),
        y0_arrears=Max("arrears", filter=Q(period=win.years[0])),
        y1_arrears=Max("arrears", filter=Q(period=win.years[1])),
    )
    billed, _change = _flow(df, win)
    months_behind = np.where(
        df["n_arrears"] > 0,
        df["m_arrears"],
        df["y0_arrears"].fillna(df["y1_arrears"]),
    )
    per_entity = pd.DataFrame(
        {"entity_id": df["entity_id"], "billed": billed, "arrears": months_behind}
    ).groupby("entity_id")
    total = per_entity["billed"].sum(min_count=1)
    cols.put_frame("utility_billed_12m", total.index, total.to_numpy() / 10_000)
    worst = per_entity["arrears"].max()
    cols.put_frame("utility_arrears_months", worst.index, worst.to_numpy())

    df = frame("tax", **_flow_aggregates("amount", win), **_arrears_aggregates(win))
    paid, change = _flow(df, win)
    cols.put_frame("tax_paid_12m", df["entity_id"], paid / 10_000)
    cols.put_frame("tax_trend", df["entity_id"], change)
    cols.put_frame("tax_arrears_months", df["entity_id"], _arrears_months(df, win))
    cols.put(
        "tax_grade",
        _tax_grade_rows(facts),
        lambda g: TAX_GRADE_VALUE.get(g, np.nan),
        np.nan,
    )

    cols.put(
        "ip_count",
        ((r["entity_id"], r["n"]) for r in grouped("intellectual_property", n=Count("id"))),
    )
    cols.put(
        "procurement_36m",
        (
            (r["entity_id"], r["n"])
            for r in grouped("procurement", n=Count("id", filter=Q(occurred_on__gte=d36)))
        ),
    )
    cols.put("honours", ((r["entity_id"], r["n"]) for r in grouped("honour", n=Count("id"))))

    _loan_history(cols, grouped("loan", **_loan_aggregates(day)), day)

    rows = grouped(
        "penalty",
        general=Count("id", filter=Q(grade="general")),
        serious=Count("id", filter=Q(grade="serious")),
    )
    cols.put("penalties_general", ((r["entity_id"], r["general"]) for r in rows))
    cols.put("penalties_serious", ((r["entity_id"], r["serious"]) for r in rows))
    rows = grouped(
        "abnormal_operation",
        listed=Count("id", filter=Q(behaviour_end__isnull=True) | Q(behaviour_end__gt=day)),
    )
    cols.put("abnormal_listed", ((r["entity_id"], min(r["listed"], 1)) for r in rows))

    against = Q(occurred_on__gte=d36, status__in=("defendant", "executed"))
    rows = grouped(
        "judicial",
        cases=Count("id", filter=against),
        stated=Count("amount", filter=against),
        total=Sum("amount", filter=against),
        dishonest=Count("id", filter=Q(flag=True)),
    )
    cols.put("cases_defendant_36m", ((r["entity_id"], r["cases"]) for r in rows))
    # no case: 0 yuan; cases none of which states its amount: unknown; else the known amounts
    cols.put(
        "case_amount_36m",
        (
            (r["entity_id"], r["total"] if r["stated"] else (np.nan if r["cases"] else 0))
            for r in rows
        ),
        _wan,
    )
    cols.put("dishonest", ((r["entity_id"], min(r["dishonest"], 1)) for r in rows))

    # related entities' negative facts count whoever is being scored: the facts of the related
    # entities, not only of the entities scored in this call (a one-entity rescoring after a
    # dispute correction must give the score the daily full run gives)
    cols.put("related_negative", _related_negative(all_facts, wanted))
    return pd.DataFrame(
        {
            **{f.name: cols.data[f.name] for f in FEATURES},
            # categorical: segment codes come free and rows are taken fast (segments.parts)
            SEGMENT_COLUMN: pd.Categorical([r[4] for r in registry], categories=EntityType.values),
        },
        index=pd.Index(ids, name="entity_id"),
    )


def _flow_aggregates(field: str, win: _Windows) -> dict[str, Any]:
    """Aggregates of an amount per period (tax paid, a bill) for ``_flow``: the monthly sums of
    the last 12 months and of the 12 before, how many rows state it, the first month stated,
    and each of the last three years' yearly figure."""
    aggregates: dict[str, Any] = {
        "m12": Sum(field, filter=win.in12),
        "n12": Count(field, filter=win.in12),
        "p12": Sum(field, filter=win.before12),
        "np12": Count(field, filter=win.before12),
        "first": Min("period", filter=MONTHLY & Q(**{f"{field}__isnull": False})),
    }
    for i, year in enumerate(win.years):
        aggregates[f"y{i}"] = Sum(field, filter=Q(period=year))
        aggregates[f"ny{i}"] = Count(field, filter=Q(period=year))
    return aggregates


def _flow(df: pd.DataFrame, win: _Windows) -> tuple[np.ndarray, np.ndarray]:
    """Return (the 12-month amount, its change on the 12 months before) per row of ``df``.

    - Monthly rows that cover the last 12 months (the series starts at or before their first
      month) give their sum, and its change on the 12 months before when they cover those too.
    - Else a yearly figure: last year's, or the year before's when last year's is not delivered
      yet; its change is on the year before it.
    - Else monthly rows of a series that started within the 12 months (a new firm) give their
      sum, and no change.
    - Else NaN: nothing stated for the window is not zero paid.
    """
    first = df["first"].fillna("9999-99").astype(str)
    m12, p12 = df["m12"].to_numpy(), df["p12"].to_numpy()
    some12 = df["n12"].to_numpy() > 0
    covers12 = some12 & (first <= win.first12).to_numpy()
    covers24 = covers12 & (df["np12"].to_numpy() > 0) & (first <= win.first24).to_numpy()
    year = _latest_year(df, "y", "ny")
    prior = _prior_year(df, "y", "ny")
    amount = np.where(covers12, m12, np.where(~np.isnan(year), year, np.where(some12, m12, np.nan)))
    with np.errstate(divide="ignore", invalid="ignore"):
        by_month = np.where(covers24 & (p12 > 0), m12 / p12 - 1.0, np.nan)
        by_year = np.where(prior > 0, year / prior - 1.0, np.nan)
    change = np.where(covers12, by_month, np.nan)
    change = np.where(np.isnan(change), by_year, change)
    return amount, change


def _latest_year(df: pd.DataFrame, value: str, known: str = "") -> np.ndarray:
    """Last year's figure, else the year before's (NaN when neither is stated)."""
    y0, y1 = df[f"{value}0"].to_numpy(), df[f"{value}1"].to_numpy()
    if known:
        y0 = np.where(df[f"{known}0"].to_numpy() > 0, y0, np.nan)
        y1 = np.where(df[f"{known}1"].to_numpy() > 0, y1, np.nan)
    latest: np.ndarray = np.where(np.isnan(y0), y1, y0)
    return latest


def _prior_year(df: pd.DataFrame, value: str, known: str = "") -> np.ndarray:
    """The figure of the year before the one ``_latest_year`` took."""
    y0, y1, y2 = (df[f"{value}{i}"].to_numpy() for i in range(3))
    if known:
        y0, y1, y2 = (
            np.where(df[f"{known}{i}"].to_numpy() > 0, y, np.nan)
            for i, y in enumerate((y0, y1, y2))
        )
    return np.where(np.isnan(y0), np.where(np.isnan(y1), np.nan, y2), y1)


def _yearly_change(df: pd.DataFrame, value: str) -> np.ndarray:
    """Change of the latest stated year (``_latest_year``) on the year before it."""
    year, prior = _latest_year(df, value), _prior_year(df, value)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prior > 0, year / prior - 1.0, np.nan)


def _arrears_aggregates(win: _Windows) -> dict[str, Any]:
    """Aggregates for ``_arrears_months``: months in arrears among the last 24, how many rows
    state arrears (0 included), and per ended year within the 24 months its yearly rows."""
    late = Q(arrears__gt=0)
    aggregates: dict[str, Any] = {
        "late_months": Count("period", distinct=True, filter=win.in24 & late),
        "stated": Count("arrears", filter=win.in24),
    }
    for i, year in enumerate(win.arrears_years):
        aggregates[f"late_y{i}"] = Count("id", filter=Q(period=year) & late)
        aggregates[f"stated_y{i}"] = Count("arrears", filter=Q(period=year))
        aggregates[f"monthly_y{i}"] = Count(
            "arrears", filter=win.in24 & Q(period__startswith=f"{year}-")
        )
    return aggregates


def _arrears_months(df: pd.DataFrame, win: _Windows) -> np.ndarray:
    """Months in arrears within the last 24 (NaN when no row there states arrears, 0 or more).

    A month's row in arrears is one month. A year's row in arrears counts one month (it says
    the firm was behind, not for how long: the least it can mean), and only for a year without
    monthly rows stating arrears within the window, which then tell the months themselves.
    """
    months = df["late_months"].to_numpy().copy()
    stated = df["stated"].to_numpy() > 0
    for i in range(len(win.arrears_years)):
        yearly_only = df[f"monthly_y{i}"].to_numpy() == 0
        months += yearly_only & (df[f"late_y{i}"].to_numpy() > 0)
        stated |= yearly_only & (df[f"stated_y{i}"].to_numpy() > 0)
    return np.where(stated, months, np.nan)


# The Fact column holding a platform loan event's days overdue (field ``overdue_days``).
LOAN_DAYS_OVERDUE = "quantity"


def _loan_aggregates(day: dt.date) -> dict[str, Any]:
    """Per-entity aggregates of the platform's loan events (category ``loan``) up to ``day``.

    A loan is counted by its loan number. Every event carries its days overdue (column
    ``quantity``, the 逾期天数 the archive and the report print): an overdue event the days so
    far, a repayment how late it was paid. The longest counts, whatever the event: a repayment
    made 7 days late is 7 days overdue, the same figure on the portrait, the archive and the
    report (``credit.fact_display`` words the event from the same column).
    """
    return {
        "loans": Count("reference_no", filter=Q(status="disbursed"), distinct=True),
        "settled": Count("reference_no", filter=Q(status="settled"), distinct=True),
        "first": Min("occurred_on", filter=Q(status="disbursed")),
        "overdue": Max(LOAN_DAYS_OVERDUE, filter=Q(occurred_on__gt=day - dt.timedelta(days=730))),
        "defaults": Count(
            "reference_no",
            filter=Q(status="defaulted", occurred_on__gt=day - dt.timedelta(days=1826)),
            distinct=True,
        ),
    }


def _loan_history(cols: _Columns, rows: list[dict[str, Any]], day: dt.date) -> None:
    """Fill the loan-history columns; an entity without platform loans gets 0 counts and NaN
    for the history length and the settled share (the scorecard's "missing" bin)."""
    cols.put("platform_loans", ((r["entity_id"], r["loans"]) for r in rows))
    cols.put(
        "platform_loan_months",
        ((r["entity_id"], (day - r["first"]).days / 30.4375 if r["first"] else None) for r in rows),
        default=np.nan,
    )
    cols.put(
        "platform_settled_share",
        (
            (r["entity_id"], min(r["settled"] / r["loans"], 1.0) if r["loans"] else None)
            for r in rows
        ),
        default=np.nan,
    )
    cols.put("loan_overdue_days_24m", ((r["entity_id"], r["overdue"]) for r in rows))
    cols.put("loan_defaults_5y", ((r["entity_id"], r["defaults"]) for r in rows))


def _related_negative(facts: QuerySet[Fact], wanted: list[int] | None) -> list[tuple[int, int]]:
    """Count, per entity, related entities (its corporate shareholders and the entities it holds
    stakes in) that have negative facts, in two aggregate queries."""
    negative = facts.filter(negative=True).values("entity_id")
    links = Relationship.objects.filter(holder_entity__isnull=False)
    held = links.filter(holder_entity_id__in=negative)
    holding = links.filter(entity_id__in=negative)
    if wanted is not None:
        held = held.filter(entity_id__in=wanted)
        holding = holding.filter(holder_entity_id__in=wanted)
    counts: dict[int, int] = {}
    for eid, n in (
        held.order_by()
        .values("entity_id")
        .annotate(n=Count("holder_entity_id", distinct=True))
        .values_list("entity_id", "n")
    ):
        counts[eid] = counts.get(eid, 0) + n
    for eid, n in (
        holding.order_by()
        .values("holder_entity_id")
        .annotate(n=Count("entity_id", distinct=True))
        .values_list("holder_entity_id", "n")
    ):
        counts[eid] = counts.get(eid, 0) + n
    return list(counts.items())
