"""Evidence that policy lands (政策落地成效): from a measure's match to the money and the loans.

For each measure and each department: how many entities were matched (eligible), how many were
pushed, how many applied, were approved, were granted money (any source: application, 免申即享,
贴息), the amounts granted and disbursed against the budget, the median days from submission to
decision, and the platform loans that followed (loans disbursed to a matched or granted entity on
or after the day it was first matched or granted).

Everything is read in a few queries and summed column-wise with pandas (no per-row ORM work).
Who sees what: the operator's staff every department (a sub-station only the entities of its
region), a policy publisher the measures of its own department, a fund approver (finance) the
money of every department; a department with a region only the entities of that region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from xinrong.accounts.choices import Role
from xinrong.accounts.permissions import can, is_operator_staff, region_prefix_for
from xinrong.marketplace.models import Loan
from xinrong.policies.choices import (
    AutoListStatus,
    FundApplicationStatus,
    GrantStatus,
    MeasureKind,
    MeasureStatus,
)
from xinrong.policies.models import AutoGrantList, FundApplication, Grant, Measure, PolicyMatch
from xinrong.policies.selectors.funds import fund_waiting_for

CENT = Decimal("0.01")
APPROVED = (FundApplicationStatus.APPROVED, FundApplicationStatus.DISBURSED)
DECIDED = (*APPROVED, FundApplicationStatus.REJECTED)
LIVE_GRANTS = (GrantStatus.COMMITTED, GrantStatus.DISBURSED)


def _wan(yuan: Decimal) -> Decimal:
    return (yuan / 10000).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Figures:
    """The landing figures of one measure, one department or all of them."""

    measures: int = 0
    matched: int = 0
    pushed: int = 0
    applied: int = 0
    approved: int = 0
    rejected: int = 0
    granted: int = 0
    granted_amount: Decimal = Decimal("0.00")
    disbursed_amount: Decimal = Decimal("0.00")
    budget: Decimal | None = None
    median_days: float | None = None
    loans: int = 0
    loan_amount: Decimal = Decimal("0.00")

    # amounts in 万元 for display (``money_wan`` takes 万元)
    @property
    def granted_wan(self) -> Decimal:
        return _wan(self.granted_amount)

    @property
    def disbursed_wan(self) -> Decimal:
        return _wan(self.disbursed_amount)

    @property
    def budget_wan(self) -> Decimal | None:
        return None if self.budget is None else _wan(self.budget)

    @property
    def loan_wan(self) -> Decimal:
        return _wan(self.loan_amount)

    @property
    def budget_left(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.granted_amount

    @property
    def budget_used_pct(self) -> Decimal | None:
        """Share of the budget granted, in percent with one decimal (None: no budget)."""
        if not self.budget:
            return None
        return (self.granted_amount * 100 / self.budget).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class MeasureEvidence:
    measure_id: int
    code: str
    title: str
    kind: str
    kind_label: str
    automatic: bool
    department_id: int
    department: str
    figures: Figures


@dataclass(frozen=True)
class DepartmentEvidence:
    department_id: int
    department: str
    figures: Figures


@dataclass
class Evidence:
    """What the evidence page shows: the departments, the measures and the totals."""

    departments: list[DepartmentEvidence] = field(default_factory=list)
    measures: list[MeasureEvidence] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    department_choices: list[tuple[int, str]] = field(default_factory=list)
    all_departments: bool = False
    region_prefix: str | None = None


# ---------------------------------------------------------------- scope


def evidence_measures(*, user: Any) -> QuerySet[Measure]:
    """Return the measures whose evidence ``user`` may see (published or withdrawn, not drafts)."""
    qs = Measure.objects.select_related("document__department").exclude(status=MeasureStatus.DRAFT)
    if not can(user, "policies.evidence_view"):
        return qs.none()
    if sees_all_departments(user):
        return qs
    return qs.filter(document__department_id=user.organisation_id)


def sees_all_departments(user: Any) -> bool:
    """The operator's staff and finance's fund approvers see every department."""
    if is_operator_staff.test(user):
        return True
    return Role.FUND_APPROVER in getattr(user, "role_codes", frozenset())


def _entity_q(prefix: str | None, field_name: str = "entity__division_code") -> Q:
    return Q() if prefix is None else Q(**{f"{field_name}__startswith": prefix})


# ---------------------------------------------------------------- frames


def _cents(values: list[Any]) -> list[int]:
    return [int((v or Decimal("0")) * 100) for v in values]


def _yuan(cents: Any) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def _frames(measure_ids: list[int], prefix: str | None) -> dict[str, pd.DataFrame]:
    """Read the matches, applications, grants and following loans of the measures."""
    eq = _entity_q(prefix)
    matches = pd.DataFrame.from_records(
        list(
            PolicyMatch.objects.filter(eq, measure_id__in=measure_ids, eligible=True).values_list(
                "measure_id", "entity_id", "first_matched_at", "matched_at", "pushed_at"
            )
        ),
        columns=["measure_id", "entity_id", "first_matched_at", "matched_at", "pushed_at"],
    )
    apps = pd.DataFrame.from_records(
        list(
            FundApplication.objects.filter(
                eq, measure_id__in=measure_ids, submitted_at__isnull=False
            ).values_list("measure_id", "entity_id", "status", "submitted_at", "decided_at")
        ),
        columns=["measure_id", "entity_id", "status", "submitted_at", "decided_at"],
    )
    grant_rows = list(
        Grant.objects.filter(eq, measure_id__in=measure_ids, status__in=LIVE_GRANTS).values_list(
            "measure_id", "entity_id", "status", "amount", "committed_at"
        )
    )
    grants = pd.DataFrame.from_records(
        [(m, e, s, c) for m, e, s, _a, c in grant_rows],
        columns=["measure_id", "entity_id", "status", "committed_at"],
    )
    grants["cents"] = pd.Series(_cents([r[3] for r in grant_rows]), dtype="int64")
    # the day from which a loan of the entity "followed" the measure: first match or first grant
    starts = pd.concat(
        [
            matches.assign(since=matches["first_matched_at"].fillna(matches["matched_at"]))[
                ["measure_id", "entity_id", "since"]
            ],
            grants.rename(columns={"committed_at": "since"})[["measure_id", "entity_id", "since"]],
        ],
        ignore_index=True,
    )
    if len(starts):
        since = pd.to_datetime(starts["since"], utc=True).dt.tz_convert(
            str(timezone.get_default_timezone())
        )
        starts = starts.assign(since=since.dt.date)
        starts = starts.groupby(["measure_id", "entity_id"], as_index=False)["since"].min()
        entity_ids = sorted(set(starts["entity_id"].tolist()))
        loan_rows = list(
            Loan.objects.filter(entity_id__in=entity_ids).values_list(
                "id", "entity_id", "disbursed_on", "principal"
            )
        )
    else:
        loan_rows = []
    loans = pd.DataFrame.from_records(
        [(i, e, d) for i, e, d, _p in loan_rows], columns=["loan_id", "entity_id", "disbursed_on"]
    )
    loans["cents"] = pd.Series(_cents([r[3] for r in loan_rows]), dtype="int64")
    followed = starts.merge(loans, on="entity_id", how="inner")
    if len(followed):
        followed = followed[followed["disbursed_on"] >= followed["since"]]
    return {"matches": matches, "apps": apps, "grants": grants, "followed": followed}


def _days(apps: pd.DataFrame) -> pd.DataFrame:
    decided = apps[apps["status"].isin(DECIDED) & apps["decided_at"].notna()].copy()
    if len(decided):
        delta = pd.to_datetime(decided["decided_at"], utc=True) - pd.to_datetime(
            decided["submitted_at"], utc=True
        )
        decided["days"] = delta.dt.total_seconds() / 86400.0
    else:
        decided["days"] = pd.Series(dtype="float64")
    return decided


def _figures(
    keys: pd.Series, f: dict[str, pd.DataFrame], budgets: pd.DataFrame, by: str
) -> dict[Any, Figures]:
    """Sum the frames by ``by`` (measure_id or department_id) into Figures per key."""
    matches, apps, grants, followed = f["matches"], f["apps"], f["grants"], f["followed"]
    decided = _days(apps)
    out: dict[Any, Figures] = {}

    def count(df: pd.DataFrame, cols: list[str] | None = None) -> pd.Series:
        if not len(df):
            return pd.Series(dtype="int64")
        frame = df.drop_duplicates(subset=cols) if cols else df
        return frame.groupby(by).size()

    matched = count(matches, [by, "entity_id"])
    pushed = count(matches[matches["pushed_at"].notna()], [by, "entity_id"])
    applied = count(apps)
    approved = count(apps[apps["status"].isin(APPROVED)])
    rejected = count(apps[apps["status"] == FundApplicationStatus.REJECTED])
    granted = count(grants)
    granted_cents = grants.groupby(by)["cents"].sum() if len(grants) else pd.Series(dtype="int64")
    paid = grants[grants["status"] == GrantStatus.DISBURSED]
    paid_cents = paid.groupby(by)["cents"].sum() if len(paid) else pd.Series(dtype="int64")
    median = decided.groupby(by)["days"].median() if len(decided) else pd.Series(dtype="float64")
    loans_once = followed.drop_duplicates(subset=[by, "loan_id"]) if len(followed) else followed
    loan_n = loans_once.groupby(by).size() if len(loans_once) else pd.Series(dtype="int64")
    loan_cents = (
        loans_once.groupby(by)["cents"].sum() if len(loans_once) else pd.Series(dtype="int64")
    )
    n_measures = budgets.groupby(by).size()
    with_budget = budgets[budgets["budget_cents"].notna()]
    budget_cents = (
        with_budget.groupby(by)["budget_cents"].sum() if len(with_budget) else pd.Series()
    )

    def get(series: pd.Series, key: Any, default: Any = 0) -> Any:
        return series.get(key, default) if len(series) else default

    for key in keys:
        b = get(budget_cents, key, None)
        m = get(median, key, None)
        out[key] = Figures(
            measures=int(get(n_measures, key)),
            matched=int(get(matched, key)),
            pushed=int(get(pushed, key)),
            applied=int(get(applied, key)),
            approved=int(get(approved, key)),
            rejected=int(get(rejected, key)),
            granted=int(get(granted, key)),
            granted_amount=_yuan(get(granted_cents, key)),
            disbursed_amount=_yuan(get(paid_cents, key)),
            budget=None if b is None or pd.isna(b) else _yuan(b),
            median_days=None if m is None or pd.isna(m) else round(float(m), 1),
            loans=int(get(loan_n, key)),
            loan_amount=_yuan(get(loan_cents, key)),
        )
    return out


def _with(df: pd.DataFrame, measures: pd.DataFrame, extra: dict[str, Any]) -> pd.DataFrame:
    """Add the department (and any constant columns) of each row's measure."""
    merged = df.merge(measures[["measure_id", "department_id"]], on="measure_id", how="left")
    return merged.assign(**extra) if extra else merged


def policy_evidence(
    *, user: Any, department_id: int | None = None, kind: str | None = None
) -> Evidence:
    """Return the evidence that policy lands, per measure, per department and in total."""
    evidence = Evidence(
        all_departments=sees_all_departments(user), region_prefix=region_prefix_for(user)
    )
    qs = evidence_measures(user=user)
    evidence.department_choices = sorted(
        {
            (m["document__department_id"], m["document__department__name"])
            for m in qs.values("document__department_id", "document__department__name")
        },
        key=lambda r: r[1],
    )
    if department_id is not None:
        qs = qs.filter(document__department_id=department_id)
    if kind:
        qs = qs.filter(kind=kind)
    rows = list(
        qs.order_by("document__department__name", "code").values_list(
            "id",
            "code",
            "title",
            "kind",
            "delivery",
            "budget",
            "document__department_id",
            "document__department__name",
        )
    )
    if not rows:
        return evidence
    measures = pd.DataFrame.from_records(
        [r[:5] + r[6:] for r in rows],
        columns=["measure_id", "code", "title", "kind", "delivery", "department_id", "dept"],
    )
    measures["budget_cents"] = pd.Series(
        [None if r[5] is None else int(r[5] * 100) for r in rows], dtype="Int64"
    )
    frames = _frames(measures["measure_id"].tolist(), evidence.region_prefix)
    per_measure = _figures(measures["measure_id"], frames, measures, "measure_id")
    dept_frames = {k: _with(v, measures, {}) for k, v in frames.items()}
    departments = measures.drop_duplicates("department_id")
    per_dept = _figures(departments["department_id"], dept_frames, measures, "department_id")
    total_frames = {k: v.assign(all=1) for k, v in dept_frames.items()}
    total = _figures(pd.Series([1]), total_frames, measures.assign(all=1), "all")[1]
    labels = dict(MeasureKind.choices)
    evidence.measures = [
        MeasureEvidence(
            measure_id=int(r.measure_id),
            code=r.code,
            title=r.title,
            kind=r.kind,
            kind_label=str(labels.get(r.kind, r.kind)),
            automatic=r.delivery == "automatic",
            department_id=int(r.department_id),
            department=r.dept,
            figures=per_measure[r.measure_id],
        )
        for r in measures.itertuples(index=False)
    ]
    evidence.departments = [
        DepartmentEvidence(int(r.department_id), r.dept, per_dept[r.department_id])
        for r in departments.itertuples(index=False)
    ]
    evidence.total = total
    return evidence


# ---------------------------------------------------------------- workbench cards


def publisher_card(*, user: Any) -> dict[str, Any]:
    """The policy publisher's workbench card: its department's measures and how they land."""
    own = Measure.objects.filter(document__department_id=user.organisation_id)
    counts = {r["status"]: r["n"] for r in own.values("status").annotate(n=Count("id"))}
    evidence = policy_evidence(user=user)
    # the applications whose open approval step this user holds (not those at finance's)
    waiting = len(fund_waiting_for(user=user))
    return {
        "published": counts.get(MeasureStatus.PUBLISHED, 0),
        "drafts": counts.get(MeasureStatus.DRAFT, 0),
        "waiting": waiting,
        "auto_waiting": AutoGrantList.objects.filter(
            measure__document__department_id=user.organisation_id,
            status=AutoListStatus.DRAFT,
        ).count(),
        "total": evidence.total,
        "top": sorted(evidence.measures, key=lambda m: -m.figures.matched)[:5],
    }


def fund_card(*, user: Any) -> dict[str, Any]:
    """The fund approver's workbench card: applications in review, grants awaiting payment."""
    prefix = region_prefix_for(user)
    eq = _entity_q(prefix)
    in_review = len(fund_waiting_for(user=user))  # the steps this approver holds
    unpaid = Grant.objects.filter(eq, status=GrantStatus.COMMITTED)
    unpaid_cents = _cents(list(unpaid.values_list("amount", flat=True)))
    evidence = policy_evidence(user=user)
    since = timezone.now() - dt.timedelta(days=30)
    paid_30 = _cents(
        list(
            Grant.objects.filter(
                eq, status=GrantStatus.DISBURSED, disbursed_at__gte=since
            ).values_list("amount", flat=True)
        )
    )
    return {
        "in_review": in_review,
        "unpaid": len(unpaid_cents),
        "unpaid_amount": _yuan(sum(unpaid_cents)),
        "paid_30_amount": _yuan(sum(paid_30)),
        "total": evidence.total,
        "tight": sorted(
            (m for m in evidence.measures if m.figures.budget_used_pct is not None),
            key=lambda m: -(m.figures.budget_used_pct or 0),
        )[:5],
    }
