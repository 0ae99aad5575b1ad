"""Writes of scoring: model training and activation, profile snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.audit.services import audit_record
from xinrong.common import bulk
from xinrong.common.errors import ApplicationError
from xinrong.credit import scorecard, segments, synthetic
from xinrong.credit.choices import ModelEventKind, ModelStatus, TrainingData
from xinrong.credit.features import FEATURES, feature_matrix
from xinrong.credit.models import CreditProfile, ScoreModel, ScoringRun
from xinrong.credit.outcomes import PlatformOutcomes, platform_outcomes
from xinrong.credit.services.cultivation import cultivation_graduate
from xinrong.credit.workflows import MODEL, model_activated
from xinrong.workflows.kernel import event_record, transition_apply

SCORE_BUCKETS = np.arange(300, 920, 20, dtype=np.float64)  # score histogram edges for PSI
SCORE_PART = 20_000  # entities scored per part when a list is given (bounded IN lists)


def _require_model_admin(actor: User | None) -> None:
    if actor is None:  # the command line, run by whoever runs the server
        return
    permissions.require(
        actor, "credit.model_manage", message=_("只有平台运营管理员可以训练或启用评分模型")
    )


def _score_histogram(scores: np.ndarray) -> list[int]:
    clipped = np.clip(scores, SCORE_BUCKETS[0], SCORE_BUCKETS[-1] - 1e-9)
    counts, _edges = np.histogram(clipped, bins=SCORE_BUCKETS)
    return [int(c) for c in counts]


OUTCOME_SOURCES = ("synthetic", "platform", "auto")


def model_train(
    *,
    actor: User | None,
    name: str = "",
    seed: int = 20221,
    as_of: dt.date | None = None,
    outcomes: str = "auto",
    base_points: float = 600.0,
    base_odds: float = 50.0,
    pdo: float = 20.0,
) -> ScoreModel:
    """Train a scorecard version and store it as a draft.

    ``outcomes`` chooses what the model learns to predict: ``platform``, the platform's own loan
    outcomes (credit.outcomes: features at a snapshot before each disbursement, bad = default or
    90+ days overdue within 12 months); ``synthetic``, the documented synthetic process
    (credit.synthetic) on the feature matrix at ``as_of``, whose true probabilities let the
    metrics report how much of the true signal the model recovers; ``auto`` (the default),
    platform outcomes when there are enough of them, else synthetic. ``metrics["outcomes"]`` and
    ``training["data"]`` say which was used, ``training["fallback"]`` why auto fell back.

    Validate, then refit: the design (one card or one per entity type, by cross-validation) is
    chosen and tested on a stratified 70/30 split, so ``auc_test``/``ks_test`` are those of the
    cards fitted on the 70%; the stored cards are that design refitted on every row
    (``training["refit"]``).
    """
    from sklearn.model_selection import train_test_split

    _require_model_admin(actor)
    if base_odds <= 0 or pdo <= 0:
        raise ApplicationError(
            "invalid_scaling",
            _("基准赔率与翻倍分值（PDO）必须大于0"),
            {"field": "pdo" if pdo <= 0 else "base_odds"},
            status=422,
        )
    if outcomes not in OUTCOME_SOURCES:
        raise ApplicationError(
            "invalid_outcomes",
            _("训练结果来源只能是：%(c)s") % {"c": " / ".join(OUTCOME_SOURCES)},
            {"field": "outcomes"},
            status=422,
        )
    day = as_of or timezone.localdate()
    platform: PlatformOutcomes | None = None
    fallback = ""
    if outcomes != "synthetic":
        try:
            platform = platform_outcomes(as_of=day)
        except ApplicationError as exc:
            if outcomes == "platform" or exc.code != "too_few_outcomes":
                raise
            fallback = exc.message
    p_true: np.ndarray | None = None
    if platform is not None:
        X, y = platform.X, platform.y
        extra_training: dict[str, Any] = {
            "data": TrainingData.PLATFORM,
            "loans_from": str(platform.month.min()),
            "loans_to": str(platform.month.max()),
            "features_as_of": "month-end before disbursement",
            "bads": platform.bads,
        }
    else:
        X = feature_matrix(as_of=as_of)
        if len(X) < 200:
            raise ApplicationError(
                "too_few_entities",
                _("主体数量不足（%(n)d），至少需要200个主体才能训练评分模型") % {"n": len(X)},
                {"field": "entities"},
                status=422,
            )
        y, p_true = synthetic.outcomes(X, seed=seed)
        extra_training = (
            {"data": TrainingData.SYNTHETIC, "fallback": fallback}
            if fallback
            else {"data": TrainingData.SYNTHETIC}
        )
    index = np.arange(len(X))
    train, test = train_test_split(index, test_size=0.3, stratify=y, random_state=seed)
    trends = {f.name: f.trend for f in FEATURES}
    fit_options: dict[str, Any] = {
        "trends": trends,
        "base_points": base_points,
        "base_odds": base_odds,
        "pdo": pdo,
    }
    try:
        choice = segments.cards_train(X.iloc[train], y[train], seed=seed, **fit_options)
    except ValueError as exc:
        raise ApplicationError(
            "training_failed", str(exc), {"field": "features"}, status=422
        ) from exc
    # validate, then refit: the test metrics are those of the cards fitted on the 70% split
    # (the only honest figure), the stored cards are the same design (single or per segment,
    # same parameters) refitted on every row, which ranks better out of sample than the 70% fit
    validated = choice.cards
    scores_split = validated.score(X)
    auc_train, ks_train = scorecard.auc_ks(y[train], -scores_split[train])
    auc_test, ks_test = scorecard.auc_ks(y[test], -scores_split[test])
    try:
        cards = _refit_all(choice, X, y, fit_options)
    except ValueError as exc:
        raise ApplicationError(
            "training_failed", str(exc), {"field": "features"}, status=422
        ) from exc
    scores = cards.score(X)
    metrics: dict[str, Any] = {
        "outcomes": TrainingData.PLATFORM if platform is not None else TrainingData.SYNTHETIC,
        "auc_train": round(auc_train, 4),
        "ks_train": round(ks_train, 4),
        "auc_test": round(auc_test, 4),
        "ks_test": round(ks_test, 4),
        "gini_test": round(2 * auc_test - 1, 4),
    }
    if p_true is not None:
        oracle_auc, oracle_ks = scorecard.auc_ks(y[test], p_true[test])
        z = synthetic.latent_risk(X)
        rank_corr = float(pd.Series(scores).corr(pd.Series(-z), method="spearman"))
        metrics |= {
            "oracle_auc_test": round(oracle_auc, 4),
            "oracle_ks_test": round(oracle_ks, 4),
            # undefined (NaN, not valid JSON) when every score is the same
            "score_vs_true_risk_spearman": round(rank_corr, 4) if np.isfinite(rank_corr) else None,
        }
    metrics |= choice.metrics()
    # the scores as stored (whole points): how finely the model tells entities apart
    metrics["distinct_scores"] = len(np.unique(np.clip(np.rint(scores[train]), 0, 999)))
    metrics["iv"] = {
        f.name: round(f.iv, 4) for _key, card in reversed(cards.items()) for f in card.features
    }
    version = (ScoreModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    model = ScoreModel(
        version=version,
        name=name or _("小微企业信用评分卡 v%(v)d") % {"v": version},
        card=cards.to_json(),
        metrics=metrics,
        training={
            **extra_training,
            "correlated_dropped": [
                {**d, "segment": key} for key, card in cards.items() for d in card.dropped
            ],
            "seed": seed,
            "as_of": day.isoformat(),
            "entities": int(X.index.nunique()),
            "rows": len(X),
            "train_rows": len(train),
            "test_rows": len(test),
            "bad_rate": round(float(y.mean()), 4),
            "split": "stratified 70/30",
            # the test metrics are of the cards fitted on the 70%; the stored cards were then
            # refitted on all rows with the same design and parameters
            "refit": "all rows",
        },
        score_distribution={
            "edges": SCORE_BUCKETS.tolist(),
            "counts": _score_histogram(scores[train]),
        },
        created_by=actor,
    )
    model.full_clean()
    model.save()
    event_record(
        MODEL,
        model,
        ModelEventKind.TRAINED,
        actor=actor,
        note=_("%(data)s：测试集 AUC %(auc).3f / KS %(ks).3f")
        % {"data": TrainingData(metrics["outcomes"]).label, "auc": auc_test, "ks": ks_test},
        created=True,
    )
    return model


def _refit_all(
    choice: segments.SegmentChoice, X: pd.DataFrame, y: np.ndarray, fit_options: dict[str, Any]
) -> segments.ModelCards:
    """The validated design (one card, or one per entity type) refitted on every row."""
    validated = choice.cards
    if not validated.segmented:
        card = scorecard.fit(X, y, segment=True, **fit_options)
        return segments.ModelCards({segments.SINGLE: card})
    types = X[scorecard.SEGMENT_COLUMN].to_numpy(dtype=object)
    cards = {}
    for key in validated.cards:
        rows = np.flatnonzero(types == key)
        cards[key] = scorecard.fit(X.iloc[rows], y[rows], **fit_options)
    return segments.ModelCards(cards, validated.default)


def model_train_request(*, actor: User, name: str = "") -> None:
    """Queue a training run from the model page (the task worker trains; see
    ``model_train_finish``). Only the platform's central operator admins may."""
    _require_model_admin(actor)
    if len(name) > 100:
        raise ApplicationError(
            "invalid_name", _("版本名称不能超过100个字符"), {"field": "name"}, status=422
        )
    from xinrong.credit import tasks

    tasks.model_train_schedule(actor.pk, name.strip())


def model_train_finish(*, actor_id: int, name: str = "") -> dict[str, Any]:
    """Run a queued training and tell the operator how it went; return the outcome."""
    from xinrong.notifications.services import notification_send

    actor = User.objects.get(pk=actor_id)
    try:
        model = model_train(actor=actor, name=name)
    except ApplicationError as exc:
        message = str(exc.message)
        notification_send(
            recipients=[actor],
            kind="credit.model_train_failed",
            title=_("评分模型训练失败"),
            body=message,
            link=reverse("credit:models"),
        )
        return {"version": None, "error": message}
    notification_send(
        recipients=[actor],
        kind="credit.model_trained",
        title=_("评分模型 v%(v)d 已训练完成，待启用") % {"v": model.version},
        body=_("测试集 AUC %(auc).3f，KS %(ks).3f。核对后在模型页面启用。")
        % {"auc": model.metrics.get("auc_test", 0), "ks": model.metrics.get("ks_test", 0)},
        link=reverse("credit:model", args=[model.version]),
    )
    return {"version": model.version, "error": ""}


@transaction.atomic
def model_activate(*, model: ScoreModel, actor: User | None, note: str = "") -> ScoreModel:
    """Make this version the active one (the previous active version is retired)."""
    _require_model_admin(actor)
    result = transition_apply(
        MODEL,
        model,
        "activate",
        actor=actor,
        note=note,
        update=model_activated(actor=actor, note=note),
    )
    audit_record(
        category="config",
        action="credit.model_activate",
        actor=actor,
        target_type="credit.scoremodel",
        target_id=model.pk,
        target_label=f"v{model.version}",
    )
    return cast(ScoreModel, result.obj)


def _score_part(
    *,
    model: ScoreModel,
    card: segments.ModelCards,
    run: ScoringRun,
    entity_ids: list[int] | None,
    as_of: dt.date | None,
) -> tuple[np.ndarray, np.ndarray, list[segments.Part]]:
    """Score one part of the population and write its changed snapshots; return (ids, scores,
    the scored segment parts).

    The part is read, scored and written in one transaction under the scoring lock, so two
    runs at once (the daily full rescoring and a batch's) never write a snapshot computed from
    facts older than the one they replace, nor two latest snapshots of one entity.
    """
    with transaction.atomic():
        _scoring_lock()
        return _score_part_locked(
            model=model, card=card, run=run, entity_ids=entity_ids, as_of=as_of
        )


_SCORING_LOCK = 0x78726373  # PostgreSQL advisory lock key of the profile writers ("xrcs")


def _scoring_lock() -> None:
    """Serialise profile writers across processes until the transaction ends.

    SQLite needs nothing: its transactions begin IMMEDIATE (settings), which already takes the
    database's write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCORING_LOCK])


def _score_part_locked(
    *,
    model: ScoreModel,
    card: segments.ModelCards,
    run: ScoringRun,
    entity_ids: list[int] | None,
    as_of: dt.date | None,
) -> tuple[np.ndarray, np.ndarray, list[segments.Part]]:
    X = feature_matrix(entity_ids=entity_ids, as_of=as_of)
    n = len(X)
    raw, parts = card.score_parts(X)
    scores = np.clip(np.rint(raw), 0, 999).astype(np.int64)
    grades = card.main.grade(scores.astype(np.float64))
    dimension_of = {f.name: f.dimension for f in FEATURES}
    dims: dict[str, np.ndarray] = {}
    named: list[tuple[slice | np.ndarray, np.ndarray]] = []
    for part in parts:  # each segment with its own card: its features, reasons and dimensions
        assert part.result is not None
        sel: slice | np.ndarray = slice(None) if part.rows is None else part.rows
        for d, values in scorecard.dimension_scores(part.card, part.result, dimension_of).items():
            dims.setdefault(d, np.full(n, np.nan))[sel] = values
        names = np.array([f.name for f in part.card.features] + [""], dtype=object)
        # at least 3 codes a row, more when more negative facts cost points (credit.reasons)
        named.append((sel, names[scorecard.reasons(part.card, part.result, part.frame)]))
    top = np.full((n, max([3, *(c.shape[1] for _s, c in named)])), "", dtype=object)
    for sel, codes in named:
        top[sel, : codes.shape[1]] = codes
    ids = X.index.to_numpy(dtype=np.int64)
    # the latest snapshots, aligned to ids: a new one is written only where something changed
    latest = CreditProfile.objects.filter(is_latest=True)
    if entity_ids is not None:
        latest = latest.filter(entity_id__in=ids.tolist())
    rows = list(latest.values_list("entity_id", "score", "grade", "model_id"))
    prev_ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    order = np.argsort(prev_ids)
    prev_ids = prev_ids[order]
    pos = np.minimum(np.searchsorted(prev_ids, ids), max(len(prev_ids) - 1, 0))
    had = (prev_ids[pos] == ids) if len(prev_ids) else np.zeros(len(ids), dtype=bool)
    prev_score = np.fromiter((r[1] for r in rows), np.int64, len(rows))[order]
    prev_grade = np.array([r[2] for r in rows], dtype=object)[order]
    prev_model = np.fromiter((r[3] for r in rows), np.int64, len(rows))[order]
    changed = ~had
    if len(prev_ids):
        changed |= (
            (prev_score[pos] != scores)
            | (prev_grade[pos] != grades)
            | (prev_model[pos] != model.pk)
        )
    write = np.flatnonzero(changed)
    stale = ids[write[had[write]]].tolist()
    top = top[write]
    reasons = pc.utf8_rtrim(
        pc.binary_join_element_wise(
            *(pa.array(top[:, r], pa.string()) for r in range(top.shape[1])), ","
        ),
        ",",
    )
    now = timezone.now()
    if as_of is not None and as_of < timezone.localdate():  # a score rebuilt for a past date
        now = timezone.make_aware(dt.datetime.combine(as_of, dt.time(12)))
    stamp = (
        now.isoformat()
        if connection.vendor == "postgresql"
        else (connection.ops.adapt_datetimefield_value(now))
    )
    table = bulk.table_of(
        {
            "entity_id": pa.array(ids[write]),
            "model_id": model.pk,
            "run_id": run.pk,
            "score": pa.array(scores[write]),
            "grade": pa.array(grades[write].astype(str)),
            # a segment's card without a dimension's features leaves it empty (NULL)
            **{f"dim_{d}": pa.array(dims[d][write], from_pandas=True) for d in dims},
            "reasons": reasons,
            "is_latest": True,
            "computed_at": stamp,
        },
        len(write),
    )
    for start in range(0, len(stale), 10_000):
        CreditProfile.objects.filter(
            entity_id__in=stale[start : start + 10_000], is_latest=True
        ).update(is_latest=False)
    bulk.insert_rows(CreditProfile._meta.db_table, table)
    return ids, raw, parts


PSI_SEGMENT_SEP = "@"  # a segmented model's feature PSI key: "<feature>@<segment>"


def _feature_psi(parts: list[segments.Part]) -> dict[str, float]:
    """PSI of each card's features: the segment's scored rows against its training rows."""
    out: dict[str, float] = {}
    for part in parts:
        assert part.result is not None
        for j, f in enumerate(part.card.features):
            key = f.name if part.key == segments.SINGLE else f"{f.name}{PSI_SEGMENT_SEP}{part.key}"
            actual = np.bincount(part.result.bins[j], minlength=len(f.counts))
            out[key] = round(scorecard.psi(f.counts, actual), 4)
    return out


def profiles_score(
    *,
    entity_ids: list[int] | None = None,
    as_of: dt.date | None = None,
    model: ScoreModel | None = None,
) -> ScoringRun:
    """Score entities (all when ``entity_ids`` is None) with the active model, column-wise.

    A new profile snapshot is written only where score, grade or model changed, so the history
    holds every change and nothing else. The run records PSI of the score and of each feature
    against the training distribution (full runs only).
    """
    model = model or ScoreModel.objects.filter(status=ModelStatus.ACTIVE).first()
    if model is None:
        raise ApplicationError(
            "no_active_model",
            _("没有启用中的评分模型，请先训练并启用"),
            {"field": "model"},
            status=409,
        )
    card = segments.model_cards(model.card)
    run = ScoringRun.objects.create(model=model, full=entity_ids is None)
    if entity_ids is None:
        ids, raw, scored = _score_part(
            model=model, card=card, run=run, entity_ids=None, as_of=as_of
        )
    else:
        # in parts, so that no query carries more ids than the database takes as parameters
        wanted = sorted(set(entity_ids))
        parts = [
            _score_part(
                model=model,
                card=card,
                run=run,
                entity_ids=wanted[start : start + SCORE_PART],
                as_of=as_of,
            )[0]
            for start in range(0, len(wanted), SCORE_PART)
        ]
        ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    for start in range(0, len(ids), SCORE_PART):
        cultivation_graduate(
            entity_ids=None if entity_ids is None else ids[start : start + SCORE_PART].tolist()
        )
        if entity_ids is None:
            break
    run.entities = len(ids)
    run.finished_at = timezone.now()
    if entity_ids is None and len(ids):
        expected = model.score_distribution.get("counts", [])
        actual = _score_histogram(raw)
        # a card entered or imported without training has no distribution to compare with
        if len(expected) == len(actual):
            run.psi_score = scorecard.psi(expected, actual)
        run.psi_features = _feature_psi(scored)
    run.save(update_fields=["entities", "finished_at", "psi_score", "psi_features"])
    return run
