"""The scoring features: one column-wise matrix for all entities, built from registry and facts.

Every feature is one NumPy column aligned to the sorted entity ids. Each is filled by a handful
of aggregate SQL queries per category (``GROUP BY entity``, or a window ranking for "latest"
values), never by a per-entity loop. Only facts an institution may see count: facts of completed
batches, negative facts within their 5-year retention at ``as_of``, and no repaired facts.
Missing information stays NaN; the scorecard gives "missing" its own bin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_
from django.utils.translation import pgettext_lazy

from xinrong.credit.choices import RepairStatus
from xinrong.credit.models import RepairApplication
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_visible
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


FEATURES: tuple[Feature, ...] = (
    Feature("years_in_business", N_("经营年限"), "basic", N_("年"), "descending"),
    Feature("registered_capital", N_("注册资本"), "basic", N_("万元"), "descending"),
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
    Feature("ip_count", N_("专利与商标数"), "operation", N_("件"), "descending"),
    Feature("procurement_36m", N_("近3年政府采购合同数"), "operation", N_("份"), "descending"),
    Feature("honours", N_("荣誉与资质数"), "operation", N_("项"), "descending"),
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
    ),
    Feature(
        "utility_arrears_months",
        N_("水电气欠费月数"),
        "compliance",
        N_("个月"),
        "ascending",
        True,
        N_("结清水电气欠费"),
    ),
    Feature(
        "social_arrears_months",
        N_("近24个月社保欠费月数"),
        "compliance",
        N_("个月"),
        "ascending",
        True,
        N_("补缴社会保险欠费"),
    ),
    Feature(
        "loan_overdue_days_24m",
        N_("近24个月平台贷款最长逾期天数"),
        "compliance",
        N_("天"),
        "ascending",
        True,
        N_("按期还本付息，逾期后尽快归还"),
    ),
    Feature("loan_defaults_5y", N_("近5年平台贷款违约笔数"), "compliance", N_("笔"), "ascending"),
    Feature("penalties_general", N_("一般行政处罚数"), "compliance", N_("次"), "ascending"),
    Feature("penalties_serious", N_("严重行政处罚数"), "compliance", N_("次"), "ascending"),
    Feature(
        "abnormal_listed",
        N_("列入经营异常名录"),
        "compliance",
        "",
        "ascending",
        True,
        N_("履行年报、公示等义务后申请移出经营异常名录"),
    ),
    Feature("cases_defendant_36m", N_("近3年被诉/被执行案件数"), "judicial", N_("件"), "ascending"),
    Feature("case_amount_36m", N_("近3年涉案金额"), "judicial", N_("万元"), "ascending"),
    Feature(
        "dishonest",
        N_("失信被执行人"),
        "judicial",
        "",
        "ascending",
        True,
        N_("履行生效法律文书确定的义务，申请移出失信名单"),
    ),
    Feature("related_negative", N_("关联主体负面信息数"), "related", N_("家"), "ascending"),
)
FEATURES_BY_NAME = {f.name: f for f in FEATURES}


def _months_back(day: dt.date, months: int) -> str:
    """Return the "YYYY-MM" period ``months`` before ``day``'s month."""
    index = day.year * 12 + (day.month - 1) - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


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
        Q(period="") | Q(period__lte=month),
        Q(occurred_on__isnull=True) | Q(occurred_on__lte=as_of),
    )
    qs = exclude_repaired(qs)  # approved credit repairs take a penalty out of the score
    excluded = list(exclude_ids)
    if excluded:
        qs = qs.exclude(pk__in=excluded)
    return qs


def _latest(qs: QuerySet[Fact], field: str) -> list[tuple[int, Any]]:
    ranked = (
        qs.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("entity_id")],
                order_by=[F("period").desc(), F("id").desc()],
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
) -> pd.DataFrame:
    """Return the feature matrix (index: entity id, one float column per feature).

    ``exclude_fact_ids`` are facts that must not count (repaired penalties).
    """
    day = as_of or timezone.localdate()
    entities = MarketEntity.objects.order_by("pk")
    wanted: list[int] | None = None
    if entity_ids is not None:
        wanted = sorted(set(entity_ids))
        entities = entities.filter(pk__in=wanted)
    registry = list(entities.values_list("pk", "established_on", "registered_capital", "employees"))
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
    if wanted is not None:
        facts = facts.filter(entity_id__in=wanted)
    m12, m24 = _months_back(day, 12), _months_back(day, 24)
    d36 = day - dt.timedelta(days=3 * 365)

    def grouped(category: str, **aggregates: Any) -> list[dict[str, Any]]:
        rows = facts.filter(category=category).order_by().values("entity_id")
        return [dict(r) for r in rows.annotate(**aggregates)]

    social = facts.filter(category="social_security")
    cols.put("insured_headcount", _latest(social, "quantity"), default=np.nan)
    earlier = _latest(social.filter(period__lte=m12), "quantity")
    latest_insured = dict(_latest(social, "quantity"))
    cols.put(
        "insured_trend",
        (
            (eid, float(latest_insured[eid]) / float(old) - 1.0)
            for eid, old in earlier
            if old and eid in latest_insured and latest_insured[eid] is not None
        ),
        default=np.nan,
    )
    rows = grouped(
        "social_security",
        arrears=Count("id", filter=Q(period__gt=m24, arrears__gt=0)),
    )
    cols.put("social_arrears_months", ((r["entity_id"], r["arrears"]) for r in rows))

    rows = grouped(
        "utility",
        billed=Sum("amount", filter=Q(period__gt=m12)),
        arrears=Max("arrears", filter=Q(period__gt=m12)),
    )
    cols.put("utility_billed_12m", ((r["entity_id"], r["billed"]) for r in rows), _wan)
    cols.put("utility_arrears_months", ((r["entity_id"], r["arrears"]) for r in rows))

    rows = grouped(
        "tax",
        paid=Sum("amount", filter=Q(period__gt=m12)),
        before=Sum("amount", filter=Q(period__gt=m24, period__lte=m12)),
        arrears=Count("id", filter=Q(period__gt=m24, arrears__gt=0)),
    )
    cols.put("tax_paid_12m", ((r["entity_id"], r["paid"]) for r in rows), _wan)
    cols.put(
        "tax_trend",
        (
            (r["entity_id"], float(r["paid"] or 0) / float(r["before"]) - 1.0)
            for r in rows
            if r["before"]
        ),
        default=np.nan,
    )
    cols.put("tax_arrears_months", ((r["entity_id"], r["arrears"]) for r in rows))
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
        amount=Sum("amount", filter=against),
        dishonest=Count("id", filter=Q(flag=True)),
    )
    cols.put("cases_defendant_36m", ((r["entity_id"], r["cases"]) for r in rows))
    cols.put("case_amount_36m", ((r["entity_id"], r["amount"]) for r in rows), _wan)
    cols.put("dishonest", ((r["entity_id"], min(r["dishonest"], 1)) for r in rows))

    # related entities' negative facts count whoever is being scored: the facts of the related
    # entities, not only of the entities scored in this call (a one-entity rescoring after a
    # dispute correction must give the score the daily full run gives)
    cols.put("related_negative", _related_negative(all_facts, wanted))
    return pd.DataFrame(
        {f.name: cols.data[f.name] for f in FEATURES}, index=pd.Index(ids, name="entity_id")
    )


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
