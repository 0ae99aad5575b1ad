"""Training outcomes from the platform's own loans (facts of category ``loan``).

The label of a loan: **bad** when, within ``XINRONG_OUTCOME_MONTHS`` (default 12) months after its
disbursement, a ``defaulted`` event or an ``overdue`` event of at least
``XINRONG_OUTCOME_BAD_DAYS`` (default 90) days is recorded for it; **good** otherwise. Only loans
whose whole performance window has passed by the labelling date count, so a recent loan is not
taken for good before it had the time to go bad.

Features are taken point-in-time at a monthly snapshot: the last day of the month before the
disbursement month. The snapshot strictly precedes the disbursement, so no event of the loan
itself (its disbursement, repayments, overdue days or default) is in its features, only what a
lender could have known when deciding; one feature matrix per disbursement month keeps the work
bounded (a few dozen column-wise builds, not one per loan). Loans of the same entity disbursed in
the same month make one row, bad when any of them went bad.

Outcome facts obey the same rules as features (``features.scorable_facts`` at the labelling
date): a negative fact past its 5-year retention or removed by credit repair is not used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError
from xinrong.credit.features import feature_matrix, scorable_facts
from xinrong.credit.scorecard import Scorecard, auc_ks
from xinrong.credit.segments import ModelCards

LOAN_EVENTS_USED = ("disbursed", "overdue", "defaulted")
PART = 20_000  # entities per feature-matrix build (bounded IN lists)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass
class PlatformOutcomes:
    """Rows for training: features at each snapshot, labels, and when each loan was disbursed."""

    X: pd.DataFrame  # index: entity id (an entity may appear once per disbursement month)
    y: np.ndarray  # 1 = bad
    snapshot: np.ndarray  # datetime64[D] per row: the features' as_of
    month: np.ndarray  # "YYYY-MM" per row: the disbursement month

    @property
    def bads(self) -> int:
        return int(self.y.sum())


def loan_labels(*, as_of: dt.date) -> pd.DataFrame:
    """Return one row per (entity, disbursement month) with a full performance window by
    ``as_of``: columns entity_id, month ("YYYY-MM"), snapshot (date), bad (0/1), loans."""
    months = _setting("XINRONG_OUTCOME_MONTHS", 12)
    bad_days = _setting("XINRONG_OUTCOME_BAD_DAYS", 90)
    rows = list(
        scorable_facts(as_of=as_of)
        .filter(category="loan", status__in=LOAN_EVENTS_USED)
        .values_list("entity_id", "reference_no", "status", "quantity", "occurred_on")
    )
    columns = ["entity_id", "loan_no", "event", "days", "on"]
    empty = pd.DataFrame(
        {"entity_id": [], "month": [], "snapshot": [], "bad": [], "loans": []}
    ).astype({"entity_id": np.int64, "bad": np.int64, "loans": np.int64})
    if not rows:
        return empty
    df = pd.DataFrame(rows, columns=columns)
    df["on"] = pd.to_datetime(df["on"])
    df["days"] = pd.to_numeric(df["days"], errors="coerce").fillna(0.0)
    disbursed = (
        df[df["event"] == "disbursed"].groupby(["entity_id", "loan_no"], as_index=False)["on"].min()
    )
    window_end = disbursed["on"] + pd.DateOffset(months=months)
    disbursed = disbursed[window_end <= pd.Timestamp(as_of)]
    if disbursed.empty:
        return empty
    bad_events = df[
        (df["event"] == "defaulted") | ((df["event"] == "overdue") & (df["days"] >= bad_days))
    ][["entity_id", "loan_no", "on"]].rename(columns={"on": "bad_on"})
    joined = disbursed.merge(bad_events, on=["entity_id", "loan_no"], how="left")
    joined["bad"] = (
        (joined["bad_on"] > joined["on"])
        & (joined["bad_on"] <= joined["on"] + pd.DateOffset(months=months))
    ).astype(np.int64)
    per_loan = joined.groupby(["entity_id", "loan_no", "on"], as_index=False)["bad"].max()
    first_of_month = per_loan["on"].dt.to_period("M").dt.to_timestamp()
    per_loan["snapshot"] = (first_of_month - pd.Timedelta(days=1)).dt.date
    per_loan["month"] = per_loan["on"].dt.strftime("%Y-%m")
    out = per_loan.groupby(["entity_id", "month", "snapshot"], as_index=False).agg(
        bad=("bad", "max"), loans=("loan_no", "count")
    )
    return out.sort_values(["month", "entity_id"], ignore_index=True)


def _snapshot_features(labels: pd.DataFrame) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield (label rows, their features at the rows' snapshot, row for row): one column-wise
    feature build per snapshot date (per ``PART`` entities)."""
    for snapshot, group in labels.groupby("snapshot", sort=True):
        ids = group["entity_id"].to_numpy(dtype=np.int64)
        for start in range(0, len(ids), PART):
            X = feature_matrix(entity_ids=ids[start : start + PART].tolist(), as_of=snapshot)
            # an entity deleted since its loan has no features: its rows go
            rows = group.iloc[start : start + PART]
            rows = rows[rows["entity_id"].isin(X.index)]
            yield rows, X.loc[rows["entity_id"].to_numpy()]


def platform_outcomes(*, as_of: dt.date) -> PlatformOutcomes:
    """Return features and labels of the platform's loans, or raise ``too_few_outcomes``.

    At least ``XINRONG_OUTCOME_MIN_BADS`` (50) bad and ``XINRONG_OUTCOME_MIN_ROWS`` (200) rows
    in all are needed.
    """
    labels = loan_labels(as_of=as_of)
    min_bads = _setting("XINRONG_OUTCOME_MIN_BADS", 50)
    min_rows = _setting("XINRONG_OUTCOME_MIN_ROWS", 200)
    bads = int(labels["bad"].sum())
    if len(labels) < min_rows or bads < min_bads or len(labels) - bads < min_bads:
        raise ApplicationError(
            "too_few_outcomes",
            _(
                "平台贷款结果不足：有 %(n)d 笔已满表现期的贷款（其中坏样本 %(b)d 笔），"
                "至少需要 %(min_n)d 笔且坏样本、好样本各不少于 %(min_b)d 笔"
            )
            % {"n": len(labels), "b": bads, "min_n": min_rows, "min_b": min_bads},
            {"field": "outcomes", "rows": len(labels), "bads": bads},
            status=422,
        )
    parts: list[pd.DataFrame] = []
    kept: list[pd.DataFrame] = []
    for rows, X in _snapshot_features(labels):
        parts.append(X)
        kept.append(rows)
    used = pd.concat(kept, ignore_index=True)
    return PlatformOutcomes(
        X=pd.concat(parts),
        y=used["bad"].to_numpy(dtype=np.int64),
        snapshot=pd.to_datetime(used["snapshot"]).to_numpy(dtype="datetime64[D]"),
        month=used["month"].to_numpy(dtype=object),
    )


# ---------------------------------------------------------------- KS over time

PERIODS = ("auto", "month", "quarter")


@dataclass
class PeriodPerformance:
    """How well a score told bad loans from good ones among the loans of one disbursement period.

    ``ks`` and ``auc`` are None when the period has fewer than the minimum rows or bad (or
    good) rows: too few outcomes to measure.
    """

    period: str  # "YYYY-MM" or "YYYYQn"
    rows: int  # scored (entity, disbursement month) rows
    loans: int
    bads: int
    bad_rate: float | None
    ks: float | None
    auc: float | None

    @property
    def enough(self) -> bool:
        return self.ks is not None


@dataclass
class PerformanceOverTime:
    """KS, AUC and bad rate of a model's score per disbursement period, oldest first."""

    as_of: dt.date
    period: str  # "month" or "quarter"
    min_rows: int
    min_bads: int
    periods: list[PeriodPerformance]

    def chart(self) -> dict[str, Any]:
        """The JSON the model page draws (null KS/AUC where a period has too few outcomes)."""
        return {
            "as_of": self.as_of.isoformat(),
            "period": self.period,
            "min_rows": self.min_rows,
            "min_bads": self.min_bads,
            "periods": [asdict(p) for p in self.periods],
        }


def ks_min_counts() -> tuple[int, int]:
    """Rows and bad rows (and good rows) a period needs before its KS is computed."""
    return _setting("XINRONG_KS_MIN_ROWS", 30), _setting("XINRONG_KS_MIN_BADS", 5)


def performance_over_time(
    *, card: Scorecard | ModelCards, as_of: dt.date, period: str = "auto"
) -> PerformanceOverTime:
    """Return the KS, AUC, bad rate and counts of ``card``'s score per disbursement period.

    Each loan row (``loan_labels`` at ``as_of``) is scored point-in-time: the feature matrix at
    its snapshot (one column-wise build per snapshot date), scored by the card. ``period`` is
    ``month``, ``quarter`` or ``auto``: months when every month from the first to the last
    disbursement month has enough outcomes (``ks_min_counts``), else quarters. Every period in
    that range is listed, those without enough outcomes with ``ks`` and ``auc`` None. A
    segmented model scores each row with its entity type's card.
    """
    cards = card if isinstance(card, ModelCards) else ModelCards({"": card})
    if period not in PERIODS:
        raise ApplicationError(
            "invalid_period",
            _("统计期间只能是：%(c)s") % {"c": " / ".join(PERIODS)},
            {"field": "period"},
            status=422,
        )
    min_rows, min_bads = ks_min_counts()
    labels = loan_labels(as_of=as_of)
    parts: list[pd.DataFrame] = []
    for rows, X in _snapshot_features(labels):
        parts.append(rows.assign(score=cards.score(X)))
    if not parts:
        return PerformanceOverTime(
            as_of, "month" if period == "month" else "quarter", min_rows, min_bads, []
        )
    scored = pd.concat(parts, ignore_index=True)
    months = pd.PeriodIndex(scored["month"], freq="M")
    if period == "auto":
        period = (
            "month"
            if bool(_enough(_counts(scored, months), min_rows, min_bads).all())
            else "quarter"
        )
    keys = months if period == "month" else months.asfreq("Q")
    counts = _counts(scored, keys)
    enough = _enough(counts, min_rows, min_bads)
    groups = scored.groupby(keys.astype(str))
    out: list[PeriodPerformance] = []
    for key, row in counts.iterrows():
        auc = ks = None
        if enough[key]:
            g = groups.get_group(str(key))
            auc, ks = auc_ks(g["bad"].to_numpy(), -g["score"].to_numpy())
        n, bads = int(row["rows"]), int(row["bads"])
        out.append(
            PeriodPerformance(
                period=str(key),
                rows=n,
                loans=int(row["loans"]),
                bads=bads,
                bad_rate=round(bads / n, 4) if n else None,
                ks=None if ks is None else round(ks, 4),
                auc=None if auc is None else round(auc, 4),
            )
        )
    return PerformanceOverTime(as_of, period, min_rows, min_bads, out)


def _counts(scored: pd.DataFrame, keys: pd.PeriodIndex) -> pd.DataFrame:
    """Rows, loans and bads per period, every period from the first to the last (zeros between)."""
    grouped = (
        scored.assign(key=keys)
        .groupby("key")
        .agg(rows=("bad", "size"), loans=("loans", "sum"), bads=("bad", "sum"))
    )
    every = pd.period_range(keys.min(), keys.max(), freq=keys.freq)
    return grouped.reindex(every, fill_value=0)


def _enough(counts: pd.DataFrame, min_rows: int, min_bads: int) -> pd.Series:
    """Periods with enough rows, and enough bad and good rows, to measure KS."""
    goods = counts["rows"] - counts["bads"]
    least = max(min_bads, 1)  # KS needs both kinds, whatever the setting
    return (counts["rows"] >= min_rows) & (counts["bads"] >= least) & (goods >= least)
