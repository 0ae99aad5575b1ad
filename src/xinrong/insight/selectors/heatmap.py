"""The heat map's figures: one grouped query per metric, grouped by division-code prefix.

A level of the map is a division (the province, a prefecture, a county or a township) and its
children; every figure of a child is the sum (or average) over the rows whose division code starts
with the child's code prefix (``divisions.descendants_prefix``). A user confined to a region (a
sub-station, a department with a region) never gets a level above or beside its region: the
level is clamped to the region (``level_for``) and every query is also filtered by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import region_prefix_for
from xinrong.credit.models import CreditProfile
from xinrong.enterprises.models import MarketEntity
from xinrong.evaluations.choices import RatingStatus
from xinrong.evaluations.models import Rating
from xinrong.insight.models import CampaignRecord
from xinrong.marketplace.models import Loan
from xinrong.reference import divisions

ROOT = divisions.PLATFORM_ROOT  # 630000, 青海省
# levels whose children are drawn on a map (the province's prefectures, a prefecture's counties)
MAP_LEVELS = (divisions.LEVEL_PROVINCE, divisions.LEVEL_PREFECTURE)


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    money: bool = False
    decimals: int = 0


@dataclass(frozen=True)
class Metric:
    key: str
    label: str | Promise
    columns: tuple[Column, ...]

    @property
    def primary(self) -> Column:
        return self.columns[0]


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "loans",
            _("放款笔数与金额"),
            (Column("count", _("放款笔数")), Column("amount", _("放款金额（元）"), money=True)),
        ),
        Metric(
            "first_loans",
            _("首贷"),
            (Column("count", _("首贷笔数")), Column("amount", _("首贷金额（元）"), money=True)),
        ),
        Metric("entities", _("市场主体"), (Column("count", _("市场主体数（户）")),)),
        Metric(
            "campaigns",
            _("信用创评"),
            (
                Column("households", _("信用户（户）")),
                Column("villages", _("信用村（个）")),
                Column("townships", _("信用乡镇（个）")),
            ),
        ),
        Metric(
            "grade",
            _("平均信用分"),
            (Column("avg", _("平均信用分"), decimals=1), Column("count", _("已评分主体（户）"))),
        ),
        Metric(
            "ratings",
            _("融资评价"),
            (Column("count", _("评价次数")), Column("avg", _("平均综合评分"), decimals=2)),
        ),
    )
}
DEFAULT_METRIC = "loans"

# length of the code prefix of a child of a division at each level
_CHILD_PREFIX = {1: 4, 2: 6, 3: 9, 4: 12}


def child_key(prefix: str) -> str:
    """The division code of a grouped prefix ("6328" → "632800")."""
    return divisions.normalize_code(prefix)


def level_for(user: Any, code: str | None) -> divisions.Division:
    """The division the user asked for, clamped to the user's region (the root when unknown)."""
    region = region_prefix_for(user)
    wanted = divisions.get(code) if code else None
    if wanted is None or not wanted.code.startswith(ROOT[:2]):
        wanted = divisions.get(ROOT)
    assert wanted is not None
    if region is not None and not wanted.code.startswith(region):
        # above or beside the region: the region itself (its division code)
        own = _region_division(region)
        if own is not None:
            return own
    if wanted.level > divisions.LEVEL_TOWNSHIP:
        parent = divisions.get(wanted.parent_code or ROOT)
        assert parent is not None
        return parent
    return wanted


def _region_division(prefix: str) -> divisions.Division | None:
    for length in (2, 4, 6, 9, 12):
        if len(prefix) == length:
            return divisions.get(prefix)
    return None


def _group(
    qs: QuerySet[Any], column: str, length: int, **aggregates: Any
) -> dict[str, dict[str, Any]]:
    rows = (
        qs.annotate(_prefix=Substr(column, 1, length))
        .values("_prefix")
        .annotate(**aggregates)
        .order_by()
    )
    return {child_key(r.pop("_prefix")): r for r in rows}


def metric_figures(
    user: Any, metric: str, parent: str, *, year: int | None = None
) -> dict[str, dict[str, Any]]:
    """Figures of ``metric`` for the children of division ``parent``: {child code: {column: v}}.

    One grouped query. Only rows inside ``parent`` and inside the user's region are counted.
    """
    level = divisions.level_of(parent) or divisions.LEVEL_PROVINCE
    length = _CHILD_PREFIX[level]
    prefix = divisions.descendants_prefix(parent)
    region = region_prefix_for(user) or ""
    if metric in ("loans", "first_loans"):
        loans = Loan.objects.filter(entity__division_code__startswith=prefix).filter(
            entity__division_code__startswith=region
        )
        if metric == "first_loans":
            loans = loans.filter(first_loan=True)
        return _group(
            loans, "entity__division_code", length, count=Count("id"), amount=Sum("principal")
        )
    if metric == "entities":
        entities = MarketEntity.objects.filter(division_code__startswith=prefix).filter(
            division_code__startswith=region
        )
        return _group(entities, "division_code", length, count=Count("id"))
    if metric == "campaigns":
        records = CampaignRecord.objects.filter(division_code__startswith=prefix).filter(
            division_code__startswith=region, year=year or campaign_year() or 0
        )
        return _group(
            records,
            "division_code",
            length,
            households=Sum("credit_households"),
            villages=Sum("credit_villages"),
            townships=Sum("credit_townships"),
        )
    if metric == "grade":
        profiles = CreditProfile.objects.filter(is_latest=True).filter(
            Q(entity__division_code__startswith=prefix)
            & Q(entity__division_code__startswith=region)
        )
        return _group(
            profiles, "entity__division_code", length, avg=Avg("score"), count=Count("id")
        )
    if metric == "ratings":
        ratings = Rating.objects.filter(status=RatingStatus.ACTIVE).filter(
            Q(entity__division_code__startswith=prefix)
            & Q(entity__division_code__startswith=region)
        )
        return _group(
            ratings, "entity__division_code", length, count=Count("id"), avg=Avg("composite")
        )
    raise KeyError(metric)


def campaign_year() -> int | None:
    """The latest year with campaign records (None when there are none)."""
    value = CampaignRecord.objects.aggregate(y=Max("year"))["y"]
    return int(value) if value is not None else None


def campaign_years() -> list[int]:
    return list(CampaignRecord.objects.order_by("-year").values_list("year", flat=True).distinct())


@dataclass
class Row:
    code: str
    name: str
    values: dict[str, Any]
    rank: int = 0
    drillable: bool = False


@dataclass
class Ranking:
    parent: divisions.Division
    metric: Metric
    rows: list[Row] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)


def _clean(metric: Metric, values: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in metric.columns:
        v = (values or {}).get(col.key)
        if col.money:
            out[col.key] = Decimal(v or 0).quantize(Decimal("0.01"))
        elif col.decimals:
            out[col.key] = None if v is None else round(float(v), col.decimals)
        else:
            out[col.key] = int(v or 0)
    return out


def ranking(
    user: Any, metric_key: str, parent: divisions.Division, *, year: int | None = None
) -> Ranking:
    """Every child of ``parent`` (placeholders skipped) with its figures, ranked by the first
    column (high first; divisions without figures last, by code)."""
    metric = METRICS[metric_key]
    figures = metric_figures(user, metric_key, parent.code, year=year)
    region = region_prefix_for(user)
    rows: list[Row] = []
    for child in divisions.children(parent.code):
        if region is not None and not child.code.startswith(region):
            continue
        rows.append(
            Row(
                code=child.code,
                name=child.name,
                values=_clean(metric, figures.get(child.code)),
                drillable=child.level <= divisions.LEVEL_TOWNSHIP,
            )
        )
    key = metric.primary.key
    rows.sort(key=lambda r: (r.values[key] is None, -(float(r.values[key] or 0)), r.code))
    for i, row in enumerate(rows, 1):
        row.rank = i
    totals: dict[str, Any] = {}
    for col in metric.columns:
        if col.decimals:
            continue
        total = sum((r.values[col.key] or 0) for r in rows)
        totals[col.key] = Decimal(total).quantize(Decimal("0.01")) if col.money else int(total)
    return Ranking(parent=parent, metric=metric, rows=rows, totals=totals)
