"""Reads of scoring: models, profiles and portraits."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
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
from xinrong.credit.features import (
    DIMENSIONS,
    FEATURES,
    FEATURES_BY_NAME,
    TAX_GRADE_VALUE,
    Feature,
    feature_matrix,
)
from xinrong.credit.models import Authorisation, CreditProfile, ModelEvent, ScoreModel, ScoringRun
from xinrong.credit.outcomes import PerformanceOverTime, ks_min_counts, performance_over_time
from xinrong.credit.reasons import zero_bin
from xinrong.credit.scorecard import BANKABLE_GRADE, BinnedFeature, Scorecard
from xinrong.credit.segments import SEGMENT_LABELS, model_cards
from xinrong.credit.selectors.archive import authorisation_live
from xinrong.credit.selectors.disputes import disputed_fact_ids
from xinrong.credit.services import archive as archive_services
from xinrong.credit.wording import (
    GRADE,
    VALUE_KINDS,
    bin_range,
    feature_label,
    goal_text,
    grade_goal,
    grade_text,
    metric_rows,
    reason_sentence,
    state_text,
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
    """Return the reasons behind a score as sentences in words ("被列为失信被执行人",
    "纳税信用等级为D级", "近24个月有9个月欠缴社保", "近12个月纳税额低于3.28万元") with the advice
    for what the enterprise can change itself ("" otherwise), for each reason code (features of
    the scorecard, in the order given)."""
    bins = card.score(X).bins if len(X) else None
    index = {f.name: j for j, f in enumerate(card.features)}
    out = []
    for code in codes:
        spec = FEATURES_BY_NAME.get(code)
        if spec is None:
            continue
        j = index.get(code)
        if j is not None and bins is not None:
            value = float(X[code].iloc[0]) if code in X.columns else None
            text = reason_sentence(code, card.features[j], int(bins[j, 0]), value)
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
        X = feature_matrix(entity_ids=[entity.pk], as_of=as_of)
        card = model_cards(profile.model.card).card_for_frame(X)  # the entity's segment's card
        dims = [
            (code, str(DIMENSIONS[code]), value)
            for code, value in profile.dimensions().items()
            if value is not None
        ]
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
    """Return the attainable better bin of a growth feature (tax paid, insured headcount): the
    nearest bin to ``current`` that adds a point (its neighbour, unless that adds less).

    The bins of a numeric feature are ordered, so the attainable change is one step (paying a
    little more tax), not the card's best bin. From "missing" (the last bin) and for
    categorical features, any real bin may be reached: the cheapest one that adds points. None
    when no step adds a point.
    """
    real = len(points) - 1  # the last bin is "missing"
    here = points[current]
    if ordered and current < real:
        # the nearest bins that add a point: the neighbour, or further when the neighbour
        # adds less (two bins a few hundred yuan apart scoring alike); a reason that advises
        # paying tax is then never left without a step
        for distance in range(1, real):
            steps = [b for b in (current - distance, current + distance) if 0 <= b < real]
            better = [b for b in steps if points[b] - here >= 1.0]
            if better:
                return max(better, key=lambda b: points[b])
        return None
    steps = [b for b in range(real) if b != current]
    better = [b for b in steps if points[b] - here >= 1.0]
    if not better:
        return None
    return min(better, key=lambda b: points[b])


MIN_GAIN = 1.0  # points: a step that adds less is not worth offering


@dataclass
class _Step:
    """One step of a feature's guidance: the bin it reaches and how it reads."""

    target: int
    text: str
    state: str = ""  # where the step leaves the entity, when a further step follows ("B级")


def _clear_steps(f: BinnedFeature, current: int) -> list[_Step]:
    """A negative fact the enterprise can clear (arrears, overdue, listing, 失信): the whole
    step, to the bin of 0, whatever the bins in between."""
    z = zero_bin(f)
    if z is None or current >= f.n_regular or z == current:
        return []
    if f.points[z] - f.points[current] < MIN_GAIN:
        return []
    return [_Step(z, goal_text(f.name, f, z))]


def _grade_steps(f: BinnedFeature, current: int, value: float) -> list[_Step]:
    """The tax credit grade: the next grade that adds points, then the best attainable one when
    it adds more (grades are earned one evaluation at a time; M is given, not earned)."""
    candidates = []
    for b in range(f.n_regular):
        letter = grade_goal(f, b, value)
        if letter is not None and f.points[b] - f.points[current] >= MIN_GAIN:
            candidates.append((TAX_GRADE_VALUE[letter], b, letter))
    if not candidates:
        return []
    candidates.sort()
    first, nearest, letter = candidates[0]
    steps = [_Step(nearest, goal_text(f.name, f, nearest, grade=letter), grade_text(first))]
    _v, best, best_letter = max(candidates, key=lambda c: (f.points[c[1]], -c[0]))
    if f.points[best] - f.points[nearest] >= MIN_GAIN:
        steps.append(_Step(best, goal_text(f.name, f, best, grade=best_letter)))
    return steps


def _growth_steps(f: BinnedFeature, current: int) -> list[_Step]:
    step = _next_step(f.points, current, ordered=f.categories is None)
    return [] if step is None else [_Step(step, goal_text(f.name, f, step))]


def _improvements(card: Scorecard, X: pd.DataFrame, score: int) -> list[Improvement]:
    """Attainable changes, each the whole step that matters, applied one after another with
    the running score and grade.

    - a negative fact the enterprise can clear (arrears, overdue loans, abnormal listing,
      失信): clearing it, to the bin of 0, with all the points that gives;
    - the tax credit grade: the next grade that adds points, then the best attainable;
    - growth (tax paid, insured headcount): the next better bin.

    The steps are taken largest gain first; a feature's second step (the best grade) only after
    its first.
    """
    bins = card.score(X).bins  # (features, 1)
    kind = str(X["entity_type"].iloc[0]) if "entity_type" in X.columns else ""
    chains: list[list[tuple[float, BinnedFeature, Feature, _Step]]] = []
    for j, f in enumerate(card.features):
        spec = FEATURES_BY_NAME.get(f.name)
        if spec is None or not spec.actionable or (kind and kind not in spec.applies_to):
            continue
        current = int(bins[j, 0])
        value = float(X[f.name].iloc[0])
        if spec.negative:
            steps = _clear_steps(f, current)
        elif VALUE_KINDS.get(f.name) == GRADE and f.categories is None:
            steps = _grade_steps(f, current, value if current < f.n_regular else math.nan)
        else:
            steps = _growth_steps(f, current)
        chain = []
        here = current
        for step in steps:
            chain.append((f.points[step.target] - f.points[here], f, spec, step))
            here = step.target
        if chain:
            chains.append(chain)
    out: list[Improvement] = []
    running = float(score)
    reached: dict[str, str] = {}  # feature: where its previous step left it
    while chains:
        pick = max(range(len(chains)), key=lambda i: chains[i][0][0])  # heads, by gain
        gain, f, spec, step = chains[pick].pop(0)
        if not chains[pick]:
            chains.pop(pick)
        running += gain
        before = reached.get(f.name)
        value = float(X[f.name].iloc[0])
        out.append(
            Improvement(
                feature=f.name,
                label=_(spec.label),
                advice=_(spec.advice),
                current=state_text(f.name, value) if before is None else before,
                target=step.text,
                gain=round(gain),
                score_after=round(running),
                grade_after=str(card.grade(np.array([running]))[0]),
            )
        )
        reached[f.name] = step.state or step.text
    return out


@dataclass
class ModelDetail:
    """A model version as the operator's page shows it."""

    model: ScoreModel
    card: Scorecard  # the main card: scaling and grade bands (every segment's card shares them)
    features: list[dict[str, Any]]
    events: list[ModelEvent]
    runs: list[ScoringRun]
    chart: dict[str, Any]
    grades: list[tuple[str, int]]  # latest profiles per grade, for the active model
    performance: PerformanceOverTime  # KS over time on platform outcomes
    metrics: list[tuple[str, str]]  # (Chinese label, value)
    training: list[tuple[str, str]]
    drift: Drift | None = None  # the latest full scoring run's PSI, when past the threshold
    # one (segment label, its features) per card; the label is "" for a single card
    segments: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    honesty: ModelHonesty | None = None

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
            (psi_label(name), float(value))
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
    cards = model_cards(model.card)
    card = cards.main
    per_segment = [
        (str(_(SEGMENT_LABELS.get(key, key))) if cards.segmented else "", _card_features(c))
        for key, c in cards.items()
    ]
    features = _card_features(card)
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
            psi_label(name): value
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
        metric_rows({k: v for k, v in model.metrics.items() if k not in HONESTY_METRICS}),
        training_rows({k: v for k, v in model.training.items() if k not in HONESTY_TRAINING}),
        model_drift(full[-1] if full else None),
        per_segment,
        model_honesty(model),
    )


def _bin_rows(f: BinnedFeature) -> list[tuple[Any, ...]]:
    return list(
        zip(
            [bin_range(f.name, f, i) for i in range(len(f.points))],
            f.counts,
            f.event_rates,
            f.woe,
            f.points,
            strict=True,
        )
    )


def _card_features(card: Scorecard) -> list[dict[str, Any]]:
    """A card's features as the model page lists them, the entity type's points last."""
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
                "bins": _bin_rows(f),
            }
        )
    if card.segment is not None:
        f = card.segment
        labels = [
            "、".join(str(_(SEGMENT_LABELS.get(c, c))) for c in group)
            for group in (f.categories or [])
        ]
        features.append(
            {
                "name": f.name,
                "label": _("主体类型"),
                "dimension": str(DIMENSIONS["basic"]),
                "iv": f.iv,
                "coef": f.coef,
                "bins": list(
                    zip(
                        [*labels, _("缺失（无数据）")],
                        f.counts,
                        f.event_rates,
                        f.woe,
                        f.points,
                        strict=True,
                    )
                ),
            }
        )
    return features


def psi_label(key: str) -> str:
    """A feature PSI's label: the feature, and its segment for a segmented model's card."""
    from xinrong.credit.services.scoring import PSI_SEGMENT_SEP

    name, _sep, segment = key.partition(PSI_SEGMENT_SEP)
    label = feature_label(name)
    if segment:
        return _("%(f)s（%(s)s）") % {"f": label, "s": _(SEGMENT_LABELS.get(segment, segment))}
    return label


# metrics and training facts the model page explains in sentences of its own
HONESTY_METRICS = frozenset(
    {
        "segmented",
        "cv_folds",
        "cv_auc_single",
        "cv_auc_segmented",
        "segment_bads",
        "segment_note",
        "distinct_scores",
    }
)
HONESTY_TRAINING = frozenset({"correlated_dropped"})


@dataclass
class ModelHonesty:
    """What the model page says about segments, dropped duplicates and score granularity."""

    segments: list[str]  # sentences: the two designs' CV AUC and the one kept
    correlated: list[str]  # "从业人数与参保人数高度相关（0.97），保留参保人数"
    distinct_scores: str  # a sentence, "" when not measured (older versions)
    missing_rule: bool  # the version shrinks missing bins towards the worst bin


def model_honesty(model: ScoreModel) -> ModelHonesty:
    """Sentences on a version's segment choice, correlated features and distinct scores."""
    m, t = model.metrics or {}, model.training or {}
    segments: list[str] = []
    if "cv_auc_single" in m:
        folds = m.get("cv_folds", 5)
        if m["cv_auc_single"] is not None:
            segments.append(
                _("一张评分卡（主体类型作为加减分）：%(k)d 折交叉验证 AUC %(auc).3f")
                % {"k": folds, "auc": m["cv_auc_single"]}
            )
        else:
            segments.append(_("样本太少，未做交叉验证"))
        if m.get("cv_auc_segmented") is not None:
            segments.append(
                _("企业、个体工商户各用一张评分卡：%(k)d 折交叉验证 AUC %(auc).3f")
                % {"k": folds, "auc": m["cv_auc_segmented"]}
            )
        elif m.get("segment_note") == "too_few_bads":
            bads = "、".join(
                f"{_(SEGMENT_LABELS.get(k, k))} {n}"
                for k, n in (m.get("segment_bads") or {}).items()
            )
            segments.append(
                _("分主体类型评分卡未评估：训练样本中某一类主体的坏样本少于 50 个（%(b)s）")
                % {"b": bads}
            )
        elif m.get("segment_note") == "one_segment":
            segments.append(_("分主体类型评分卡未评估：训练样本只有一类主体"))
        segments.append(
            _("采用：企业、个体工商户分别评分") if m.get("segmented") else _("采用：一张评分卡")
        )
    correlated = [
        _("%(a)s与%(b)s高度相关（%(rho).2f），保留%(b)s%(seg)s")
        % {
            "a": feature_label(d["feature"]),
            "b": feature_label(d["kept"]),
            "rho": abs(float(d["rho"])),
            "seg": (
                _("（%(s)s评分卡）") % {"s": _(SEGMENT_LABELS[d["segment"]])}
                if d.get("segment") in SEGMENT_LABELS
                else ""
            ),
        }
        for d in t.get("correlated_dropped") or []
    ]
    distinct = ""
    if "distinct_scores" in m:
        distinct = _(
            "训练样本 %(n)d 个中共有 %(d)d 个不同的信用分。评分卡按分箱加分，分箱越粗，"
            "不同分数越少：排序够用，但同分的主体在定价上无法再区分。"
        ) % {"n": int(t.get("train_rows") or 0), "d": int(m["distinct_scores"])}
    cards = model_cards(model.card)
    missing_rule = all(f.missing_prior_rows > 0 for _k, c in cards.items() for f in c.features)
    return ModelHonesty(segments, correlated, distinct, missing_rule)


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
        result = performance_over_time(card=model_cards(model.card), as_of=day, period=period)
        cache.set(key, result, KS_CACHE_SECONDS)
    return result
