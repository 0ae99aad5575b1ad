"""Reads of scoring: models, profiles and portraits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from xinrong.accounts import permissions
from xinrong.accounts.choices import INSTITUTION_KINDS, OrgGroup
from xinrong.accounts.models import User
from xinrong.common.errors import NotFoundError, PermissionDeniedError
from xinrong.credit.choices import ModelStatus, Scope
from xinrong.credit.features import DIMENSIONS, FEATURES, FEATURES_BY_NAME, feature_matrix
from xinrong.credit.models import Authorisation, CreditProfile, ModelEvent, ScoreModel, ScoringRun
from xinrong.credit.outcomes import PerformanceOverTime, ks_min_counts, performance_over_time
from xinrong.credit.scorecard import BANKABLE_GRADE, Scorecard
from xinrong.credit.selectors.archive import authorisation_live
from xinrong.credit.selectors.disputes import disputed_fact_ids
from xinrong.credit.services import archive as archive_services
from xinrong.credit.wording import (
    bin_range,
    bin_sentence,
    feature_label,
    metric_rows,
    training_rows,
    value_text,
)
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.models import MarketEntity


def model_active() -> ScoreModel | None:
    """Return the active scoring model, if any."""
    return ScoreModel.objects.filter(status=ModelStatus.ACTIVE).first()


def model_list(*, user: User) -> QuerySet[ScoreModel]:
    """Return every model version, for the platform operator."""
    permissions.require(user, "credit.model_view", message=_("只有平台运营方可以查看评分模型"))
    return ScoreModel.objects.select_related("created_by")


TRAINING_STATUS_LABELS = {
    "READY": _lazy("排队中"),
    "RUNNING": _lazy("训练中"),
    "SUCCESSFUL": _lazy("已完成"),
    "FAILED": _lazy("失败"),
}


def model_training_runs(*, user: User, limit: int = 5) -> list[dict[str, Any]]:
    """Return the latest training runs queued from the model page, newest first: status,
    times, the version made or why it failed. Empty when the task backend keeps no results
    (the operator is notified when a run ends either way)."""
    permissions.require(user, "credit.model_view", message=_("只有平台运营方可以查看评分模型"))
    from django.conf import settings

    if "django_tasks_db" not in settings.TASKS.get("default", {}).get("BACKEND", ""):
        return []
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path__endswith=".model_train_run").order_by(
        "-enqueued_at"
    )[:limit]
    out = []
    for r in rows:
        value = r.return_value if isinstance(r.return_value, dict) else {}
        error = value.get("error") or ""
        if r.status == "FAILED" and not error:
            error = _("训练过程出错，请查看服务器日志")
        out.append(
            {
                "status": r.status,
                "status_label": str(
                    TRAINING_STATUS_LABELS["FAILED" if error else r.status]
                    if (error or r.status in TRAINING_STATUS_LABELS)
                    else r.status
                ),
                "ok": r.status == "SUCCESSFUL" and not error,
                "enqueued_at": r.enqueued_at,
                "finished_at": r.finished_at,
                "version": value.get("version"),
                "error": error,
            }
        )
    return out


def profile_latest(*, entity: MarketEntity) -> CreditProfile | None:
    """Return an entity's latest score snapshot (no permission check: callers check)."""
    return (
        CreditProfile.objects.filter(entity=entity, is_latest=True).select_related("model").first()
    )


@dataclass
class Improvement:
    """One attainable change and what it would do to the score."""

    feature: str
    label: str
    advice: str
    current: str
    target: str
    gain: int
    score_after: int
    grade_after: str


@dataclass
class Portrait:
    """What a reader may see of an enterprise's credit portrait (画像)."""

    entity: MarketEntity
    own: bool
    profile: CreditProfile | None
    history: list[tuple[str, int]]  # (date, score), oldest first
    dimensions: list[tuple[str, str, float]]  # (code, label, 0–100)
    reasons: list[tuple[str, str]]  # (feature label, advice or "")
    features: list[tuple[str, str, str]]  # (label, value, dimension label)
    improvements: list[Improvement]
    bankable: bool
    authorisation: Authorisation | None = None
    disputed: int = 0  # facts under an open objection (the score may change when answered)


def score_history(*, entity: MarketEntity) -> list[tuple[str, int]]:
    """Return the score trend: one point per Beijing day, the day's last score, oldest first.

    Rescorings within a day (after a correction, a batch, the daily run) leave one point, the
    score the day ended with; a day is the Beijing calendar day, as every table shows it.
    """
    by_day: dict[str, int] = {}
    for at, score in (
        CreditProfile.objects.filter(entity=entity)
        .order_by("computed_at", "id")
        .values_list("computed_at", "score")
    ):
        by_day[timezone.localdate(at).isoformat()] = score  # later rows overwrite earlier ones
    return list(by_day.items())


def _portrait_access(user: User, entity: MarketEntity) -> tuple[bool, Authorisation | None]:
    """The enterprise itself, or an institution holding a live full authorisation."""
    if user.group == OrgGroup.ENTERPRISE:
        if entity.organisation_id is None or user.organisation_id != entity.organisation_id:
            raise PermissionDeniedError("forbidden", _("只能查看本企业的信用画像"))
        return True, None
    org = user.organisation
    auth = (
        authorisation_live(entity=entity, organisation_id=org.pk)
        if org is not None and org.kind in INSTITUTION_KINDS
        else None
    )
    if auth is None or auth.scope != Scope.FULL:
        raise PermissionDeniedError(
            "authorisation_required",
            _("信用画像基于企业的全部信用信息，需要企业授予“全部信息”范围的有效授权"),
        )
    return False, auth


def reason_sentences(card: Scorecard, X: pd.DataFrame, codes: list[str]) -> list[tuple[str, str]]:
    """Return the reasons behind a score as sentences ("近12个月纳税额低于3.28万元") with the
    advice for what the enterprise can change itself ("" otherwise): the bin the entity's value
    falls in, for each reason code (features of the scorecard, in the order given)."""
    bins = card.score(X).bins if len(X) else None
    index = {f.name: j for j, f in enumerate(card.features)}
    out = []
    for code in codes:
        spec = FEATURES_BY_NAME.get(code)
        if spec is None:
            continue
        j = index.get(code)
        if j is not None and bins is not None:
            text = bin_sentence(code, card.features[j], int(bins[j, 0]))
        else:
            text = _(spec.label)
        out.append((text, _(spec.advice) if spec.actionable else ""))
    return out


def portrait_read(
    *, user: User, entity: MarketEntity, channel: str, as_of: dt.date | None = None
) -> Portrait:
    """Return the portrait the user may see; an institution's read is logged."""
    own, auth = _portrait_access(user, entity)
    profile = profile_latest(entity=entity)
    history = score_history(entity=entity)
    dims: list[tuple[str, str, float]] = []
    reasons: list[tuple[str, str]] = []
    features: list[tuple[str, str, str]] = []
    improvements: list[Improvement] = []
    bankable = False
    if profile is not None:
        card = Scorecard.from_json(profile.model.card)
        dims = [
            (code, str(DIMENSIONS[code]), value)
            for code, value in profile.dimensions().items()
            if value is not None
        ]
        X = feature_matrix(entity_ids=[entity.pk], as_of=as_of)
        reasons = reason_sentences(card, X, profile.reason_codes())
        features = [
            (_(f.label), value_text(f.name, float(X[f.name].iloc[0])), str(DIMENSIONS[f.dimension]))
            for f in FEATURES
        ]
        improvements = _improvements(card, X, profile.score)
        bankable = _grade_rank(card, profile.grade) <= _grade_rank(card, BANKABLE_GRADE)
    if not own and auth is not None:
        archive_services.query_log_record(
            entity=entity, user=user, authorisation=auth, channel=channel, categories=["portrait"]
        )
    disputed = len(
        disputed_fact_ids(
            fact_ids=fact_visible().filter(entity=entity).values_list("pk", flat=True)
        )
    )
    return Portrait(
        entity,
        own,
        profile,
        history,
        dims,
        reasons,
        features,
        improvements,
        bankable,
        auth,
        disputed,
    )


def _grade_rank(card: Scorecard, grade: str) -> int:
    names = [g for g, _floor in card.bands]
    return names.index(grade) if grade in names else len(names)


def _next_step(points: list[float], current: int, *, ordered: bool) -> int | None:
    """Return the attainable better bin: the neighbour of ``current`` with more points.

    The bins of a numeric feature are ordered, so the attainable change is one step (paying a
    little more tax, one month less in arrears), not the card's best bin. From "missing" (the
    last bin) and for categorical features, any real bin may be reached: the cheapest one that
    adds points. None when no step adds a point.
    """
    real = len(points) - 1  # the last bin is "missing"
    here = points[current]
    if ordered and current < real:
        steps = [b for b in (current - 1, current + 1) if 0 <= b < real]
    else:
        steps = [b for b in range(real) if b != current]
    better = [b for b in steps if points[b] - here >= 1.0]
    if not better:
        return None
    if ordered and current < real:
        return max(better, key=lambda b: points[b])
    return min(better, key=lambda b: points[b])


def _improvements(card: Scorecard, X: pd.DataFrame, score: int) -> list[Improvement]:
    """Attainable changes (one bin better, see ``_next_step``) ranked by the points they add,
    applied one after another."""
    bins = card.score(X).bins  # (features, 1)
    options = []
    for j, f in enumerate(card.features):
        spec = FEATURES_BY_NAME.get(f.name)
        if spec is None or not spec.actionable:
            continue
        current = int(bins[j, 0])
        step = _next_step(f.points, current, ordered=f.categories is None)
        if step is not None:
            value = float(X[f.name].iloc[0])
            options.append((f.points[step] - f.points[current], f, spec, step, value))
    options.sort(key=lambda o: -o[0])
    out: list[Improvement] = []
    running = float(score)
    for gain, f, spec, best, value in options:
        running += gain
        out.append(
            Improvement(
                feature=f.name,
                label=_(spec.label),
                advice=_(spec.advice),
                current=value_text(f.name, value),
                target=bin_range(f.name, f, best),
                gain=round(gain),
                score_after=round(running),
                grade_after=str(card.grade(np.array([running]))[0]),
            )
        )
    return out


@dataclass
class ModelDetail:
    """A model version as the operator's page shows it."""

    model: ScoreModel
    card: Scorecard
    features: list[dict[str, Any]]
    events: list[ModelEvent]
    runs: list[ScoringRun]
    chart: dict[str, Any]
    grades: list[tuple[str, int]]  # latest profiles per grade, for the active model
    performance: PerformanceOverTime  # KS over time on platform outcomes
    metrics: list[tuple[str, str]]  # (Chinese label, value)
    training: list[tuple[str, str]]
    drift: Drift | None = None  # the latest full scoring run's PSI, when past the threshold

    @property
    def bands(self) -> list[str]:
        """Grades and their score ranges: "AAA ≥ 720", ..., "C < 440" (the lowest has no floor)."""
        out = []
        above = None
        for g, floor in self.card.bands:
            if np.isfinite(floor):
                out.append(f"{g} ≥ {floor:.0f}")
            else:
                out.append(f"{g} < {above:.0f}" if above is not None else g)
            above = floor
        return out


PSI_WATCH = 0.1  # PSI from here on: watch
PSI_DRIFT = 0.25  # PSI above this: significant drift, retrain


@dataclass
class Drift:
    """Significant drift found by the latest full scoring run of a version."""

    at: dt.datetime
    score_psi: float | None  # the score's PSI (None when only features drifted)
    features: list[tuple[str, float]]  # (Chinese label, PSI) above the threshold, worst first
    threshold: float = PSI_DRIFT


def model_drift(run: ScoringRun | None) -> Drift | None:
    """Return the drift a full scoring run found (score or feature PSI above 0.25), if any."""
    if run is None:
        return None
    features = sorted(
        (
            (feature_label(name), float(value))
            for name, value in (run.psi_features or {}).items()
            if value is not None and float(value) > PSI_DRIFT
        ),
        key=lambda item: -item[1],
    )
    score = run.psi_score if run.psi_score is not None and run.psi_score > PSI_DRIFT else None
    if score is None and not features:
        return None
    return Drift(run.started_at, score, features)


def model_detail(*, user: User, version: int) -> ModelDetail:
    """Return a version's bins, points, metrics, audit events, recent runs' PSI and KS over time."""
    model = model_list(user=user).filter(version=version).first()
    if model is None:
        raise NotFoundError(
            "model_not_found", _("评分模型 v%(v)d 不存在") % {"v": version}, {"field": "version"}
        )
    card = Scorecard.from_json(model.card)
    features = []
    for f in card.features:
        spec = FEATURES_BY_NAME.get(f.name)
        features.append(
            {
                "name": f.name,
                "label": _(spec.label) if spec else f.name,
                "dimension": str(DIMENSIONS[spec.dimension]) if spec else "",
                "iv": f.iv,
                "coef": f.coef,
                "bins": list(
                    zip(
                        [bin_range(f.name, f, i) for i in range(len(f.points))],
                        f.counts,
                        f.event_rates,
                        f.woe,
                        f.points,
                        strict=True,
                    )
                ),
            }
        )
    runs = list(model.runs.order_by("-started_at")[:30])
    full = [r for r in reversed(runs) if r.psi_score is not None]
    chart = {
        "psi": [
            {
                "at": timezone.localtime(r.started_at).strftime("%Y-%m-%d %H:%M"),
                "psi": round(r.psi_score or 0.0, 4),
            }
            for r in full
        ],
        "features": {
            feature_label(name): value
            for name, value in (full[-1].psi_features if full else {}).items()
        },
        "distribution": model.score_distribution,
    }
    grades = list(
        CreditProfile.objects.filter(is_latest=True, model=model)
        .values_list("grade")
        .annotate(n=Count("id"))
        .order_by("grade")
    )
    performance = model_performance(model=model)
    chart["ks"] = performance.chart()
    return ModelDetail(
        model,
        card,
        features,
        list(model.events.select_related("actor")),
        runs,
        chart,
        grades,
        performance,
        metric_rows(model.metrics),
        training_rows(model.training),
        model_drift(full[-1] if full else None),
    )


KS_CACHE_SECONDS = 6 * 3600


def model_performance(
    *, model: ScoreModel, as_of: dt.date | None = None, period: str = "auto"
) -> PerformanceOverTime:
    """Return the KS, AUC and bad rate of a version's point-in-time score per disbursement
    period (no permission check: callers check).

    Scoring every loan at its snapshot is not cheap, so the result is cached per version and
    ``as_of`` date (and period); a new delivery of loan events starts a new entry.
    """
    day = as_of or timezone.localdate()
    latest_loans = IngestBatch.objects.filter(category="loan").aggregate(m=Max("pk"))["m"]
    min_rows, min_bads = ks_min_counts()
    key = (
        f"credit:ks:{model.pk}:{model.version}:{day.isoformat()}:{period}:"
        f"{latest_loans or 0}:{min_rows}:{min_bads}"
    )
    result: PerformanceOverTime | None = cache.get(key)
    if result is None:
        result = performance_over_time(
            card=Scorecard.from_json(model.card), as_of=day, period=period
        )
        cache.set(key, result, KS_CACHE_SECONDS)
    return result
