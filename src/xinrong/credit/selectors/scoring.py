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


def _fmt(value: float, unit: str) -> str:
    if np.isnan(value):
        return _("无数据")
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"
    return f"{text} {_(unit)}".strip()


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
        for code in profile.reason_codes():
            spec = FEATURES_BY_NAME.get(code)
            if spec is not None:
                reasons.append((_(spec.label), _(spec.advice) if spec.actionable else ""))
        X = feature_matrix(entity_ids=[entity.pk], as_of=as_of)
        features = [
            (_(f.label), _fmt(float(X[f.name].iloc[0]), f.unit), str(DIMENSIONS[f.dimension]))
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
                current=_fmt(value, spec.unit),
                target=f.labels()[best],
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
                    zip(f.labels(), f.counts, f.event_rates, f.woe, f.points, strict=True)
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
        "features": (full[-1].psi_features if full else {}),
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
