"""Writes of credit information: authorisations, the query log, scoring models and profiles."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation, User
from xinrong.common import bulk
from xinrong.common.crypto import sm3_hex
from xinrong.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from xinrong.credit import recipients, rules, scorecard, synthetic
from xinrong.credit.choices import (
    DISPUTE_ANSWER_DAYS,
    DISPUTE_TRANSITIONS,
    MAX_AUTHORISATION_DAYS,
    OPEN_DISPUTE_STATUSES,
    PUBLIC_CATEGORIES,
    AlertStatus,
    Channel,
    CultivationStatus,
    DisputeEventKind,
    DisputeKind,
    DisputeStatus,
    ModelStatus,
    Purpose,
    RepairEventKind,
    RepairStatus,
    ReportAudience,
    Scope,
    TrainingData,
)
from xinrong.credit.evidence import CheckedFile, evidence_check
from xinrong.credit.features import FEATURES, feature_matrix
from xinrong.credit.models import (
    Alert,
    Authorisation,
    CreditProfile,
    CreditReport,
    CultivationCase,
    CultivationNote,
    Dispute,
    DisputeEvent,
    DisputeEvidence,
    LoanWatch,
    ModelEvent,
    QueryLog,
    RepairApplication,
    RepairEvent,
    RepairEvidence,
    ScoreModel,
    ScoringRun,
    WarningRuleChange,
    WarningRuleSetting,
)
from xinrong.credit.outcomes import PlatformOutcomes, platform_outcomes
from xinrong.credit.publication import (
    PUBLICATION_PERIODS,
    REPAIRABLE_CATEGORY,
    repair_earliest_on,
)
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_visible
from xinrong.datahub.services.quality import fact_correct, fact_values_check
from xinrong.enterprises.models import MarketEntity
from xinrong.notifications.services import notification_send

if TYPE_CHECKING:  # imported where used below, as the other warnings calls are
    from xinrong.credit.warnings import WarningRule

logger = logging.getLogger(__name__)


def _require_owner(actor: User, entity: MarketEntity) -> None:
    permissions.require(
        actor, "credit.consent_manage", entity, message=_("只有本企业的账户可以管理查询授权")
    )


@transaction.atomic
def authorisation_grant(
    *,
    entity: MarketEntity,
    actor: User,
    institution: Organisation,
    scope: str,
    purpose: str,
    expires_on: dt.date,
    categories: list[str] | None = None,
    purpose_note: str = "",
) -> Authorisation:
    """Let an institution read the enterprise's archive within a scope until a date."""
    _require_owner(actor, entity)
    if institution.kind not in INSTITUTION_KINDS or not institution.is_active:
        raise ApplicationError(
            "institution_kind",
            _("只能授权给在平台上的金融机构"),
            {"field": "institution"},
            status=422,
        )
    if scope not in Scope.values:
        raise ApplicationError("invalid_scope", _("授权范围不正确"), {"field": "scope"}, status=422)
    if purpose not in Purpose.values:
        raise ApplicationError(
            "invalid_purpose", _("请选择查询用途"), {"field": "purpose"}, status=422
        )
    chosen = sorted(set(categories or []))
    if scope == Scope.CHOSEN:
        unknown = [c for c in chosen if c not in CATEGORIES]
        if not chosen or unknown:
            raise ApplicationError(
                "invalid_categories",
                _("指定类别时须至少选择一个有效类别"),
                {"field": "categories"},
                status=422,
            )
    else:
        chosen = []
    today = timezone.localdate()
    if not today < expires_on <= today + dt.timedelta(days=MAX_AUTHORISATION_DAYS):
        raise ApplicationError(
            "invalid_expiry",
            _("有效期须晚于今天且不超过%(n)d天") % {"n": MAX_AUTHORISATION_DAYS},
            {"field": "expires_on"},
            status=422,
        )
    expires_at = timezone.make_aware(dt.datetime.combine(expires_on, dt.time(23, 59, 59)))
    return Authorisation.objects.create(
        entity=entity,
        institution=institution,
        scope=scope,
        categories=chosen,
        purpose=purpose,
        purpose_note=purpose_note.strip()[:200],
        granted_by=actor,
        expires_at=expires_at,
    )


@transaction.atomic
def authorisation_revoke(*, authorisation: Authorisation, actor: User) -> Authorisation:
    """Withdraw consent at once; later reads are refused."""
    _require_owner(actor, authorisation.entity)
    if authorisation.revoked_at is None:
        authorisation.revoked_at = timezone.now()
        authorisation.revoked_by = actor
        authorisation.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return authorisation


def authorisation_end(*, authorisation: Authorisation) -> Authorisation:
    """End a consent whose purpose is fulfilled (e.g. the loan application it was granted with
    was rejected or its loan settled). The platform does this, so no person is recorded."""
    if authorisation.revoked_at is None:
        authorisation.revoked_at = timezone.now()
        authorisation.save(update_fields=["revoked_at", "updated_at"])
    return authorisation


def loan_watch_start(*, entity: MarketEntity, institution: Organisation, reference: str) -> None:
    """Let the lender of an outstanding loan receive the borrower's early warnings."""
    LoanWatch.objects.update_or_create(
        institution=institution,
        reference=reference,
        defaults={"entity": entity, "ended_at": None},
    )


def loan_watch_end(*, institution: Organisation, reference: str) -> None:
    """Stop the early warnings of a loan that is settled (idempotent)."""
    LoanWatch.objects.filter(
        institution=institution, reference=reference, ended_at__isnull=True
    ).update(ended_at=timezone.now(), updated_at=timezone.now())


def query_log_record(
    *,
    entity: MarketEntity,
    user: User,
    authorisation: Authorisation,
    channel: str,
    categories: list[str],
) -> QueryLog:
    """Write who read what of whose, when and why (征信业管理条例 第二十二条)."""
    if channel not in Channel.values:
        raise ValueError(channel)
    assert user.organisation is not None
    return QueryLog.objects.create(
        entity=entity,
        user=user,
        organisation=user.organisation,
        authorisation=authorisation,
        channel=channel,
        categories=sorted(categories),
        purpose=authorisation.purpose,
    )


# ---------------------------------------------------------------- scoring

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
    try:
        card = scorecard.fit(
            X.iloc[train],
            y[train],
            trends=trends,
            base_points=base_points,
            base_odds=base_odds,
            pdo=pdo,
        )
    except ValueError as exc:
        raise ApplicationError(
            "training_failed", str(exc), {"field": "features"}, status=422
        ) from exc
    scores = card.score(X).score
    auc_train, ks_train = scorecard.auc_ks(y[train], -scores[train])
    auc_test, ks_test = scorecard.auc_ks(y[test], -scores[test])
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
    metrics["iv"] = {f.name: round(f.iv, 4) for f in card.features}
    version = (ScoreModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    model = ScoreModel(
        version=version,
        name=name or _("小微企业信用评分卡 v%(v)d") % {"v": version},
        card=card.to_json(),
        metrics=metrics,
        training={
            **extra_training,
            "seed": seed,
            "as_of": day.isoformat(),
            "entities": int(X.index.nunique()),
            "rows": len(X),
            "train_rows": len(train),
            "test_rows": len(test),
            "bad_rate": round(float(y.mean()), 4),
            "split": "stratified 70/30",
        },
        score_distribution={
            "edges": SCORE_BUCKETS.tolist(),
            "counts": _score_histogram(scores[train]),
        },
        created_by=actor,
    )
    model.full_clean()
    model.save()
    ModelEvent.objects.create(
        model=model,
        kind="trained",
        actor=actor,
        note=f"{metrics['outcomes']}: AUC {auc_test:.3f} / KS {ks_test:.3f} (test)",
    )
    return model


@transaction.atomic
def model_activate(*, model: ScoreModel, actor: User | None, note: str = "") -> ScoreModel:
    """Make this version the active one (the previous active version is retired)."""
    _require_model_admin(actor)
    model = ScoreModel.objects.select_for_update().get(pk=model.pk)
    if model.status == ModelStatus.ACTIVE:
        raise ApplicationError(
            "already_active", _("该模型已在启用中"), {"field": "model"}, status=409
        )
    for old in ScoreModel.objects.select_for_update().filter(status=ModelStatus.ACTIVE):
        old.status = ModelStatus.RETIRED
        old.save(update_fields=["status", "updated_at"])
        ModelEvent.objects.create(model=old, kind="retired", actor=actor, note=note)
    model.status = ModelStatus.ACTIVE
    model.activated_at = timezone.now()
    model.save(update_fields=["status", "activated_at", "updated_at"])
    ModelEvent.objects.create(model=model, kind="activated", actor=actor, note=note)
    return model


def _score_part(
    *,
    model: ScoreModel,
    card: scorecard.Scorecard,
    run: ScoringRun,
    entity_ids: list[int] | None,
    as_of: dt.date | None,
) -> tuple[np.ndarray, scorecard.ScoreResult]:
    """Score one part of the population and write its changed snapshots; return (ids, result).

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
    card: scorecard.Scorecard,
    run: ScoringRun,
    entity_ids: list[int] | None,
    as_of: dt.date | None,
) -> tuple[np.ndarray, scorecard.ScoreResult]:
    X = feature_matrix(entity_ids=entity_ids, as_of=as_of)
    result = card.score(X)
    scores = np.clip(np.rint(result.score), 0, 999).astype(np.int64)
    grades = card.grade(scores.astype(np.float64))
    dims = scorecard.dimension_scores(card, result, {f.name: f.dimension for f in FEATURES})
    names = np.array([f.name for f in card.features] + [""], dtype=object)
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
    top = names[scorecard.reasons(card, result)[write]]  # (rows, 3) feature names or ""
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
            **{f"dim_{d}": pa.array(dims[d][write]) for d in dims},
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
    return ids, result


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
    card = scorecard.Scorecard.from_json(model.card)
    run = ScoringRun.objects.create(model=model, full=entity_ids is None)
    if entity_ids is None:
        ids, result = _score_part(model=model, card=card, run=run, entity_ids=None, as_of=as_of)
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
        run.psi_score = scorecard.psi(
            model.score_distribution.get("counts", []), _score_histogram(result.score)
        )
        run.psi_features = {
            f.name: round(
                scorecard.psi(f.counts, np.bincount(result.bins[j], minlength=len(f.counts))),
                4,
            )
            for j, f in enumerate(card.features)
        }
    run.save(update_fields=["entities", "finished_at", "psi_score", "psi_features"])
    return run


def rescore_all_schedule() -> None:
    """Queue a full rescoring after the current transaction commits."""
    from xinrong.credit import tasks

    transaction.on_commit(lambda: tasks.rescore_all.enqueue())


def rescore_entities_schedule(entity_ids: list[int]) -> None:
    """Queue a rescoring of these entities after the current transaction commits.

    Used where facts change outside an ingestion batch (dispute corrections, repairs), so the
    stored score the portrait and report show follows the facts.
    """
    from xinrong.credit import tasks

    ids = sorted(set(entity_ids))
    transaction.on_commit(lambda: tasks.rescore_entities.enqueue(ids))


# ---------------------------------------------------------------- early warning


def alerts_raise(
    *, entity_ids: list[int], batch_id: int | None = None, only: Collection[str] | None = None
) -> int:
    """Run every warning rule and alert the institutions holding a live authorisation or an
    outstanding loan (a live ``LoanWatch``) for the enterprise.

    ``only`` limits the run to some rule ids (e.g. the score drop after a rescoring that no
    delivery caused). Returns the number of new alerts (repeats of one already raised are
    skipped).
    """
    from xinrong.credit import warnings

    if not entity_ids:
        return 0
    if len(entity_ids) > SCORE_PART:  # bounded IN lists: evaluate in parts
        wanted = sorted(set(entity_ids))
        return sum(
            alerts_raise(
                entity_ids=wanted[start : start + SCORE_PART], batch_id=batch_id, only=only
            )
            for start in range(0, len(wanted), SCORE_PART)
        )
    ctx = warnings.Context(batch_id=batch_id, entity_ids=entity_ids)
    findings = [
        (rule, eid, detail)
        for rule in warnings.rules_effective()
        if rule.enabled and (only is None or rule.rule.id in only)
        for eid, detail in rule.rule.check(ctx, rule.threshold)
    ]
    if not findings:
        return 0
    watchers: dict[int, set[int]] = {}
    found = {eid for _r, eid, _d in findings}
    consents = Authorisation.objects.filter(
        entity_id__in=found, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).values_list("entity_id", "institution_id")
    lenders = LoanWatch.objects.filter(entity_id__in=found, ended_at__isnull=True).values_list(
        "entity_id", "institution_id"
    )
    for eid, org in (*consents, *lenders):
        watchers.setdefault(eid, set()).add(org)
    alerts = [
        Alert(
            entity_id=eid,
            institution_id=org,
            rule=rule.rule.id,
            severity=rule.severity,
            detail=detail,
            fingerprint=warnings.fingerprint(detail),
        )
        for rule, eid, detail in findings
        for org in sorted(watchers.get(eid, ()))
    ]
    seen = set(
        Alert.objects.filter(entity_id__in={a.entity_id for a in alerts}).values_list(
            "institution_id", "entity_id", "rule", "fingerprint"
        )
    )
    new = [a for a in alerts if (a.institution_id, a.entity_id, a.rule, a.fingerprint) not in seen]
    Alert.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


@transaction.atomic
def warning_rule_update(
    *,
    rule_id: str,
    actor: User,
    enabled: bool,
    severity: str,
    threshold: int | str | None = None,
    note: str = "",
) -> WarningRuleSetting:
    """Switch an early-warning rule on or off, set its severity and threshold (operator admin).

    The change applies from the next evaluation (after the next ingestion batch) and is
    recorded with the values before and after.
    """
    from xinrong.credit import warnings

    permissions.require(
        actor, "credit.warning_rules_change", message=_("只有平台运营管理员可以修改预警规则")
    )
    rule = warnings.RULES_BY_ID.get(rule_id)
    if rule is None:
        raise NotFoundError("not_found", _("没有这条预警规则"), {"field": "rule"})
    if severity not in warnings.SEVERITIES:
        raise ApplicationError(
            "invalid_severity",
            _("严重程度只能是：高、中、低"),
            {"field": "severity"},
            status=422,
        )
    value = _warning_threshold(rule, threshold)
    note = _text(note, field="note", label=_("修改说明"), required=False)
    setting, created = WarningRuleSetting.objects.select_for_update().get_or_create(
        rule=rule_id, defaults={"severity": rule.severity}
    )
    default = rule.threshold.initial() if rule.threshold is not None else None
    current = setting.threshold if setting.threshold is not None else default
    before: dict[str, Any] = {"enabled": setting.enabled, "severity": setting.severity}
    after: dict[str, Any] = {"enabled": bool(enabled), "severity": severity}
    if rule.threshold is not None:
        before["threshold"] = current
        after["threshold"] = value
    if before == after:
        if created:  # nothing to change: leave no setting row behind either
            setting.delete()
        return setting
    setting.enabled = bool(enabled)
    setting.severity = severity
    # a threshold left at the default keeps following the default (a deployment setting)
    setting.threshold = value if value != current or setting.threshold is not None else None
    setting.updated_by = actor
    setting.updated_at = timezone.now()
    setting.full_clean()
    setting.save()
    WarningRuleChange.objects.create(
        rule=rule_id, actor=actor, before=before, after=after, note=note
    )
    return setting


def _warning_threshold(rule: WarningRule, threshold: int | str | None) -> int | None:
    """Return the rule's threshold as an integer within its range, or None if it has none."""
    spec = rule.threshold
    text = "" if threshold is None else str(threshold).strip()
    if spec is None:
        if text:
            raise ApplicationError(
                "no_threshold", _("这条规则没有阈值"), {"field": "threshold"}, status=422
            )
        return None
    if not text.isascii() or not text.isdigit() or not spec.low <= int(text) <= spec.high:
        raise ApplicationError(
            "invalid_threshold",
            _("%(label)s须为 %(low)d–%(high)d 之间的整数（%(unit)s）")
            % {"label": _(spec.label), "low": spec.low, "high": spec.high, "unit": _(spec.unit)},
            {"field": "threshold"},
            status=422,
        )
    return int(text)


def _require_alert_owner(alert: Alert, actor: User) -> None:
    permissions.require(actor, "credit.alert_handle", alert, message=_("只能处理本机构收到的预警"))


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: User, note: str = "") -> Alert:
    """The institution has seen the alert and is looking into it."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _require_alert_owner(alert, actor)
    if alert.status != AlertStatus.OPEN:
        raise ApplicationError(
            "alert_not_open", _("只有待处理的预警可以确认"), {"field": "status"}, status=409
        )
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.handled_by, alert.handled_at, alert.note = actor, timezone.now(), note[:2000]
    alert.save(update_fields=["status", "handled_by", "handled_at", "note", "updated_at"])
    return alert


@transaction.atomic
def alert_close(*, alert: Alert, actor: User, note: str) -> Alert:
    """Close an alert with what was done about it."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _require_alert_owner(alert, actor)
    if alert.status == AlertStatus.CLOSED:
        raise ApplicationError("alert_closed", _("该预警已关闭"), {"field": "status"}, status=409)
    if not note.strip():
        raise ApplicationError(
            "note_required", _("关闭预警须填写处理说明"), {"field": "note"}, status=422
        )
    alert.status = AlertStatus.CLOSED
    alert.handled_by, alert.handled_at, alert.note = actor, timezone.now(), note.strip()[:2000]
    alert.save(update_fields=["status", "handled_by", "handled_at", "note", "updated_at"])
    return alert


# ---------------------------------------------------------------- credit cultivation


def _require_authority(actor: User) -> None:
    permissions.require(actor, "credit.cultivation_run", message=_("信用培植由行业主管部门办理"))


@transaction.atomic
def cultivation_start(*, entity: MarketEntity, actor: User, plan: str) -> CultivationCase:
    """Take an enterprise below the bankable grade into cultivation with a plan."""
    _require_authority(actor)
    if not plan.strip():
        raise ApplicationError("plan_required", _("请填写培植计划"), {"field": "plan"}, status=422)
    profile = CreditProfile.objects.filter(entity=entity, is_latest=True).first()
    if profile is None:
        raise ApplicationError(
            "no_score", _("该企业尚无信用评分，无法纳入培植"), {"field": "entity"}, status=409
        )
    names = [g for g, _floor in scorecard.DEFAULT_BANDS]
    if names.index(profile.grade) <= names.index(scorecard.BANKABLE_GRADE):
        raise ApplicationError(
            "already_bankable",
            _("该企业信用等级为 %(g)s，已达到可授信等级，无需培植") % {"g": profile.grade},
            {"field": "entity"},
            status=409,
        )
    org = actor.organisation
    if (
        org is not None
        and org.industry_sections
        and entity.industry_code[:1] not in org.industry_sections
    ):
        raise PermissionDeniedError("forbidden", _("该企业不属于本部门主管的行业"))
    if CultivationCase.objects.filter(entity=entity, status=CultivationStatus.ACTIVE).exists():
        raise ApplicationError(
            "already_cultivated", _("该企业已在培植中"), {"field": "entity"}, status=409
        )
    case = CultivationCase(
        entity=entity,
        authority=org,
        plan=plan.strip(),
        score_at_start=profile.score,
        grade_at_start=profile.grade,
        started_by=actor,
    )
    case.full_clean()
    case.save()
    return case


def _require_case_owner(case: CultivationCase, actor: User) -> None:
    if actor.organisation_id != case.authority_id:
        raise PermissionDeniedError("forbidden", _("只能办理本部门的培植记录"))


@transaction.atomic
def cultivation_note_add(*, case: CultivationCase, actor: User, text: str) -> CultivationNote:
    """Record a follow-up."""
    _require_case_owner(case, actor)
    if not text.strip():
        raise ApplicationError("note_required", _("请填写跟进内容"), {"field": "text"}, status=422)
    return CultivationNote.objects.create(case=case, author=actor, text=text.strip()[:4000])


@transaction.atomic
def cultivation_end(*, case: CultivationCase, actor: User, reason: str) -> CultivationCase:
    """Stop cultivating (e.g. the enterprise closed or declined)."""
    case = CultivationCase.objects.select_for_update().get(pk=case.pk)
    _require_case_owner(case, actor)
    if case.status != CultivationStatus.ACTIVE:
        raise ApplicationError("case_closed", _("该培植已结束"), {"field": "status"}, status=409)
    if not reason.strip():
        raise ApplicationError(
            "reason_required", _("请填写终止原因"), {"field": "reason"}, status=422
        )
    case.status, case.ended_at = CultivationStatus.DROPPED, timezone.now()
    case.save(update_fields=["status", "ended_at", "updated_at"])
    CultivationNote.objects.create(case=case, author=actor, text=_("终止：") + reason.strip())
    return case


def cultivation_graduate(*, entity_ids: list[int] | None = None) -> int:
    """Close as graduated every active case whose enterprise became bankable; return how many."""
    names = [g for g, _floor in scorecard.DEFAULT_BANDS]
    bankable = names[: names.index(scorecard.BANKABLE_GRADE) + 1]
    cases = CultivationCase.objects.filter(
        status=CultivationStatus.ACTIVE,
        entity__credit_profiles__is_latest=True,
        entity__credit_profiles__grade__in=bankable,
    )
    if entity_ids is not None:
        cases = cases.filter(entity_id__in=entity_ids)
    return cases.update(status=CultivationStatus.GRADUATED, ended_at=timezone.now())


# ---------------------------------------------------------------- credit reports


def _pending_disputes(entity: MarketEntity) -> list[int]:
    """Return the ids of the entity's facts under a pending objection (异议), for the report.

    The same rule as ``selectors.disputed_fact_ids``: disputes submitted or in review. The
    report lists those facts under 异议信息 and marks them 异议中 in their category.
    """
    return sorted(
        Dispute.objects.filter(entity=entity, status__in=OPEN_DISPUTE_STATUSES).values_list(
            "fact_id", flat=True
        )
    )


def _report_purpose(purpose: str, auth: Authorisation | None) -> str:
    """An institution's report serves its authorisation's purpose; the enterprise may name one."""
    purpose = (purpose or "").strip()
    if purpose and purpose not in Purpose.values:
        raise ApplicationError(
            "invalid_purpose",
            _("查询用途不正确，可选：%(choices)s")
            % {"choices": "、".join(str(label) for label in Purpose.labels)},
            {"field": "purpose"},
            status=422,
        )
    if auth is None:
        return purpose
    if purpose and purpose != auth.purpose:
        raise ApplicationError(
            "purpose_mismatch",
            _("查询用途须与企业授权的用途“%(p)s”一致") % {"p": auth.get_purpose_display()},
            {"field": "purpose"},
            status=422,
        )
    return auth.purpose


def _report_quota(*, user: User, entity: MarketEntity) -> None:
    """Refuse (429) once the user generated ``XINRONG_REPORT_DAILY_LIMIT`` reports today."""
    limit = int(getattr(settings, "XINRONG_REPORT_DAILY_LIMIT", 20))
    # Lock the user's row so two simultaneous requests cannot both pass the count.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    done = CreditReport.objects.filter(
        entity=entity, requested_by=user, generated_at__gte=start
    ).count()
    if done >= limit:
        raise ApplicationError(
            "report_daily_limit",
            _("今天已为该企业生成 %(n)d 份信用报告，达到每日上限（%(limit)d 份），请明天再试")
            % {"n": done, "limit": limit},
            {"field": "entity", "limit": limit},
            status=429,
        )


def report_verify_url(number: str, *, base: str = "") -> str:
    """Return the absolute address of a report's public verification page.

    ``XINRONG_PUBLIC_URL`` wins (reports outlive the request's host name); ``base`` is the
    requesting page's scheme and host otherwise.
    """
    root = str(getattr(settings, "XINRONG_PUBLIC_URL", "") or base).rstrip("/")
    return f"{root}{reverse('report_verify', args=[number])}"


@transaction.atomic
def report_generate(
    *,
    user: User,
    entity: MarketEntity,
    channel: str,
    purpose: str = "",
    verify_base: str = "",
) -> CreditReport:
    """Generate the entity's credit report (PDF) for the user, store it and record its digest.

    The enterprise's own users get everything in its archive; an institution gets what its live
    authorisation allows, exactly as the archive shows it (``selectors.archive_read``), the
    score only under a "full" authorisation (as the portrait), and its generation is written to
    the query log with the categories read and "report".
    """
    from xinrong.credit import reports, selectors  # selectors imports this module

    if channel not in Channel.values:
        raise ValueError(channel)
    own, auth = selectors.report_access(user=user, entity=entity)
    purpose = _report_purpose(purpose, auth)
    _report_quota(user=user, entity=entity)
    archive = selectors.archive_read(user=user, entity=entity, channel=channel, log=False)
    requester = user.organisation
    assert requester is not None  # report_access admits organisation members only
    score_allowed = own or (auth is not None and auth.scope == Scope.FULL)
    profile = selectors.profile_latest(entity=entity) if score_allowed else None
    if not own:
        assert archive.authorisation is not None
        read = [c for c in archive.categories if c not in PUBLIC_CATEGORIES]
        query_log_record(
            entity=entity,
            user=user,
            authorisation=archive.authorisation,
            channel=channel,
            categories=[*read, "report"],
        )
    records = selectors.report_query_records(
        entity=entity, own=own, limit=reports.max_rows_per_category()
    )
    now = timezone.now()
    number = reports.new_number(now)
    with translation.override("zh-hans"):  # the report is a Chinese document in any UI language
        content = reports.compose(
            number=number,
            generated_at=now,
            archive=archive,
            requester=requester,
            purpose=purpose,
            profile=profile,
            score_allowed=score_allowed,
            query_records=records,
            disputed_fact_ids=_pending_disputes(entity),
            verify_url=report_verify_url(number, base=verify_base),
        )
        rendered = reports.render(content)
    report = CreditReport(
        number=number,
        entity=entity,
        requested_by=user,
        organisation=requester,
        audience=ReportAudience.OWN if own else ReportAudience.INSTITUTION,
        authorisation=archive.authorisation if not own else None,
        purpose=purpose,
        channel=channel,
        generated_at=now,
        sm3=sm3_hex(rendered.pdf),
        pages=rendered.pages,
        size=len(rendered.pdf),
        model_version=profile.model.version if profile else None,
        score=profile.score if profile else None,
        grade=profile.grade if profile else "",
    )
    report.full_clean(exclude=["file"])
    try:
        report.file.save(f"{number}.pdf", ContentFile(rendered.pdf), save=False)
    except OSError as exc:
        logger.exception("credit report %s: the PDF could not be stored", number)
        raise ApplicationError(
            "report_storage",
            _("信用报告文件保存失败，请稍后重试；如持续出现请联系平台运营方"),
            status=503,
        ) from exc
    try:
        report.save()
    except Exception:
        report.file.delete(save=False)  # no file without its record
        raise
    return report


# ============================================================================================
# Disputes (异议) and credit repair (信用修复): one service per transition, each writing an
# event row (the timeline); notifications go out after the transaction commits.
# ============================================================================================

CLAIM_MAX = 2000  # characters of any free text: claim, note, reason, statement
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: str | None, *, field: str, label: str, required: bool) -> str:
    """Return cleaned free text or raise an error naming the field."""
    text = (value or "").strip()
    if required and not text:
        raise ApplicationError(
            "required", _("请填写%(l)s") % {"l": label}, {"field": field}, status=422
        )
    if len(text) > CLAIM_MAX:
        raise ApplicationError(
            "too_long",
            _("%(l)s不能超过 %(n)d 个字符") % {"l": label, "n": CLAIM_MAX},
            {"field": field},
            status=422,
        )
    if _CONTROL.search(text) or not _encodable(text):
        raise ApplicationError(
            "invalid_text",
            _("%(l)s不能包含控制字符或无效字符") % {"l": label},
            {"field": field},
            status=422,
        )
    return text


def _encodable(text: str) -> bool:
    """Return False for text with lone surrogates (not storable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fact_for_update(fact_id: int) -> Fact:
    """Lock a visible fact (serialises filings about it) or raise NotFoundError."""
    fact = (
        fact_visible()
        .select_for_update(of=("self",))
        .select_related("source", "entity")
        .filter(pk=fact_id)
        .first()
        if 0 < fact_id < 2**63
        else None
    )
    if fact is None:
        raise NotFoundError("fact_not_found", _("信用信息不存在"), {"field": "fact_id"})
    return fact


def _store_evidence(
    model: type[DisputeEvidence] | type[RepairEvidence],
    owner: dict[str, Any],
    files: list[CheckedFile],
    actor: User,
) -> list[Any]:
    """Save checked files to storage and their rows; remove stored files if anything fails."""
    rows: list[Any] = []
    try:
        for f in files:
            row = model(
                original_name=f.name,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                uploaded_by=actor,
                **owner,
            )
            row.file.save(f.name, f.upload, save=False)
            rows.append(row)
        model.objects.bulk_create(rows)
    except Exception:
        for row in rows:
            row.file.delete(save=False)
        raise
    return rows


def _dispute_locked(dispute: Dispute) -> Dispute:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("entity", "source", "fact")
        .get(pk=dispute.pk)
    )


def _dispute_event(
    dispute: Dispute,
    *,
    kind: str,
    actor: User | None,
    from_status: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> DisputeEvent:
    return DisputeEvent.objects.create(
        dispute=dispute,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=dispute.status,
        note=note,
        data=data or {},
        created_at=at or timezone.now(),
    )


def _ensure_dispute_transition(dispute: Dispute, to: str) -> None:
    if to not in DISPUTE_TRANSITIONS.get(dispute.status, frozenset()):
        raise ConflictError(
            "invalid_transition",
            _("异议当前状态为“%(s)s”，不能变更为“%(t)s”")
            % {"s": dispute.get_status_display(), "t": DisputeStatus(to).label},
            {"field": "status"},
        )


def _require_handler(actor: User, dispute: Dispute | RepairApplication) -> None:
    if not permissions.can(actor, "credit.case_handle", dispute):
        raise PermissionDeniedError(
            "forbidden",
            _("只有“%(o)s”的数据报送员或平台运营管理员可以处理")
            % {"o": dispute.source.organisation},
        )


def _category_label(category: str) -> str:
    spec = CATEGORIES.get(category)
    return str(_(spec.name)) if spec else category


def _field_label(category: str, key: str) -> str:
    spec = CATEGORIES.get(category)
    f = spec.by_key.get(key) if spec else None
    return str(_(f.header)) if f else key


def _notify(
    recipients: Any, *, kind: str, title: str, body: str, link: str, organisation_id: int | None
) -> None:
    """Send after commit: the recipients are read then, so they see the committed state."""

    def send() -> None:
        users = list(recipients()) if callable(recipients) else list(recipients)
        notification_send(
            recipients=users,
            kind=kind,
            title=title,
            body=body,
            link=link,
            organisation_id=organisation_id,
        )

    transaction.on_commit(send)


def _dispute_link(dispute: Dispute) -> str:
    return reverse("credit:dispute_detail", args=[dispute.pk])


def _notify_enterprise_dispute(dispute: Dispute, *, kind: str, title: str, body: str) -> None:
    entity = dispute.entity
    _notify(
        lambda: recipients.entity_users(entity=entity),
        kind=kind,
        title=title,
        body=body,
        link=_dispute_link(dispute),
        organisation_id=entity.organisation_id,
    )


def _notify_handlers_dispute(dispute: Dispute, *, kind: str, title: str, body: str) -> None:
    source, entity = dispute.source, dispute.entity
    _notify(
        lambda: recipients.handler_users(source=source, entity=entity),
        kind=kind,
        title=title,
        body=body,
        link=_dispute_link(dispute),
        organisation_id=source.organisation_id,
    )


@transaction.atomic
def dispute_file(
    *,
    actor: User,
    fact: Fact | int,
    kind: str,
    claim: str,
    proposed_values: dict[str, Any] | None = None,
    evidence: Sequence[File] = (),
    now: dt.datetime | None = None,
) -> Dispute:
    """File a dispute about a fact of the enterprise's own archive (due in 20 days).

    ``proposed_values`` maps field keys to the values the enterprise asks for: required for a
    correction (different from the stored values), for an addition only fields now empty.
    """
    now = now or timezone.now()
    locked = _fact_for_update(fact if isinstance(fact, int) else fact.pk)
    entity = locked.entity
    if not rules.is_entity_member(actor, entity):
        raise PermissionDeniedError("forbidden", _("只能对本企业档案中的信息提出异议"))
    if kind not in DisputeKind.values:
        raise ApplicationError(
            "invalid_kind",
            _("异议类型只能是：%(k)s") % {"k": " / ".join(DisputeKind.values)},
            {"field": "kind"},
            status=422,
        )
    claim = _text(claim, field="claim", label=_("异议说明"), required=True)
    if not isinstance(proposed_values, dict | None):
        raise ApplicationError(
            "invalid_values", _("更正值应为对象"), {"field": "proposed_values"}, status=422
        )
    values = fact_values_check(
        category=locked.category, changes=proposed_values or {}, field_prefix="proposed_values"
    )
    current = locked.values()
    for key, value in values.items():
        label = _field_label(locked.category, key)
        if current.get(key, "") == value:
            raise ApplicationError(
                "same_value",
                _("“%(h)s”与现有记录相同，无需更正") % {"h": label},
                {"field": f"proposed_values.{key}"},
                status=422,
            )
        if kind == DisputeKind.ADDITION and current.get(key):
            raise ApplicationError(
                "not_empty",
                _("“%(h)s”已有记录值，修改已有值请选择“更正”") % {"h": label},
                {"field": f"proposed_values.{key}"},
                status=422,
            )
    if kind in (DisputeKind.CORRECTION, DisputeKind.ADDITION) and not values:
        raise ApplicationError(
            "values_required",
            _("申请%(k)s时须填写至少一个字段的值") % {"k": DisputeKind(kind).label},
            {"field": "proposed_values"},
            status=422,
        )
    checked = evidence_check(list(evidence))
    open_one = Dispute.objects.filter(fact=locked, status__in=OPEN_DISPUTE_STATUSES).first()
    if open_one is not None:
        raise ConflictError(
            "dispute_open",
            _("该信息已有处理中的异议（编号 %(n)d），请等待答复或撤回后再提交")
            % {"n": open_one.pk},
            {"field": "fact_id"},
        )
    dispute = Dispute(
        entity=entity,
        fact=locked,
        source=locked.source,
        category=locked.category,
        kind=kind,
        claim=claim,
        proposed_values=values,
        original_values=current,
        filed_by=actor,
        submitted_at=now,
        due_on=timezone.localdate(now) + dt.timedelta(days=DISPUTE_ANSWER_DAYS),
    )
    dispute.full_clean(validate_constraints=False)  # checked above with clear messages
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError as exc:  # a concurrent filing won the race
        raise ConflictError(
            "dispute_open", _("该信息已有处理中的异议"), {"field": "fact_id"}
        ) from exc
    _store_evidence(DisputeEvidence, {"dispute": dispute}, checked, actor)
    _dispute_event(
        dispute,
        kind=DisputeEventKind.FILED,
        actor=actor,
        from_status="",
        note=claim,
        data={"proposed_values": values, "evidence": [f.name for f in checked]},
        at=now,
    )
    _notify_handlers_dispute(
        dispute,
        kind="dispute.filed",
        title=_("新的异议待处理：%(e)s") % {"e": entity.name},
        body=_("%(k)s · %(c)s · 答复期限 %(d)s\n%(claim)s")
        % {
            "k": dispute.get_kind_display(),
            "c": _category_label(dispute.category),
            "d": dispute.due_on.isoformat(),
            "claim": claim[:200],
        },
    )
    return dispute


@transaction.atomic
def dispute_evidence_add(
    *, dispute: Dispute, actor: User, evidence: Sequence[File]
) -> list[DisputeEvidence]:
    """Add evidence files to an open dispute of the enterprise."""
    dispute = _dispute_locked(dispute)
    if not rules.is_entity_member(actor, dispute.entity):
        raise PermissionDeniedError("forbidden", _("只有提出异议的企业可以补充证据"))
    if not dispute.is_open:
        raise ConflictError(
            "dispute_closed", _("异议已办结，不能再补充证据"), {"field": "evidence"}
        )
    if not evidence:
        raise ApplicationError(
            "required", _("请选择要上传的证据文件"), {"field": "evidence"}, status=422
        )
    checked = evidence_check(list(evidence), already=dispute.evidence.count())
    rows = _store_evidence(DisputeEvidence, {"dispute": dispute}, checked, actor)
    _dispute_event(
        dispute,
        kind=DisputeEventKind.EVIDENCE_ADDED,
        actor=actor,
        from_status=dispute.status,
        note="、".join(f.name for f in checked),
    )
    return rows


@transaction.atomic
def dispute_withdraw(*, dispute: Dispute, actor: User, note: str = "") -> Dispute:
    """The enterprise withdraws its open dispute."""
    dispute = _dispute_locked(dispute)
    if not rules.is_entity_member(actor, dispute.entity):
        raise PermissionDeniedError("forbidden", _("只有提出异议的企业可以撤回"))
    _ensure_dispute_transition(dispute, DisputeStatus.WITHDRAWN)
    note = _text(note, field="note", label=_("撤回说明"), required=False)
    before = dispute.status
    dispute.status = DisputeStatus.WITHDRAWN
    dispute.resolved_at = timezone.now()
    dispute.save(update_fields=["status", "resolved_at", "updated_at"])
    _dispute_event(
        dispute, kind=DisputeEventKind.WITHDRAWN, actor=actor, from_status=before, note=note
    )
    _notify_handlers_dispute(
        dispute,
        kind="dispute.withdrawn",
        title=_("异议已撤回：%(e)s") % {"e": dispute.entity.name},
        body=note,
    )
    return dispute


@transaction.atomic
def dispute_review_start(*, dispute: Dispute, actor: User, note: str = "") -> Dispute:
    """The department (or operator) takes the dispute up for checking."""
    dispute = _dispute_locked(dispute)
    _require_handler(actor, dispute)
    _ensure_dispute_transition(dispute, DisputeStatus.IN_REVIEW)
    note = _text(note, field="note", label=_("说明"), required=False)
    dispute.status = DisputeStatus.IN_REVIEW
    dispute.handled_by = actor
    dispute.save(update_fields=["status", "handled_by", "updated_at"])
    _dispute_event(
        dispute,
        kind=DisputeEventKind.REVIEW_STARTED,
        actor=actor,
        from_status=DisputeStatus.SUBMITTED,
        note=note,
    )
    _notify_enterprise_dispute(
        dispute,
        kind="dispute.in_review",
        title=_("您的异议已开始核查"),
        body=_("%(o)s 正在核查您对“%(c)s”信息提出的异议，答复期限 %(d)s。")
        % {
            "o": dispute.source.organisation.name,
            "c": _category_label(dispute.category),
            "d": dispute.due_on.isoformat(),
        },
    )
    return dispute


@transaction.atomic
def dispute_resolve_correct(
    *,
    dispute: Dispute,
    actor: User,
    values: dict[str, Any] | None = None,
    note: str = "",
) -> Dispute:
    """Correct the fact as the dispute asks (or with the department's own values) and close it.

    ``values`` defaults to the enterprise's proposed values. The original values stay in the
    event for audit.
    """
    dispute = _dispute_locked(dispute)
    _require_handler(actor, dispute)
    _ensure_dispute_transition(dispute, DisputeStatus.CORRECTED)
    note = _text(note, field="note", label=_("处理意见"), required=False)
    changes = dispute.proposed_values if values is None else values
    if not changes:
        raise ApplicationError(
            "values_required",
            _("请填写更正后的值（至少一个字段）"),
            {"field": "values"},
            status=422,
        )
    correction = fact_correct(fact=dispute.fact, changes=changes, actor=actor)
    rescore_entities_schedule([dispute.fact.entity_id])
    before = dispute.status
    now = timezone.now()
    dispute.status = DisputeStatus.CORRECTED
    dispute.handled_by = actor
    dispute.resolution = note or _("已按异议更正")
    dispute.resolved_at = now
    dispute.save(update_fields=["status", "handled_by", "resolution", "resolved_at", "updated_at"])
    changed = {
        k: {"before": correction.before.get(k, ""), "after": correction.after.get(k, "")}
        for k in correction.changed
    }
    _dispute_event(
        dispute,
        kind=DisputeEventKind.CORRECTED,
        actor=actor,
        from_status=before,
        note=dispute.resolution,
        data={"changes": changed, "original_values": correction.before},
        at=now,
    )
    lines = [
        _("%(h)s：%(a)s → %(b)s")
        % {
            "h": _field_label(dispute.category, k),
            "a": v["before"] or "—",
            "b": v["after"] or "—",
        }
        for k, v in changed.items()
    ]
    _notify_enterprise_dispute(
        dispute,
        kind="dispute.corrected",
        title=_("异议已办结：信息已更正"),
        body="\n".join([*lines, dispute.resolution]),
    )
    return dispute


@transaction.atomic
def dispute_resolve_uphold(*, dispute: Dispute, actor: User, reason: str) -> Dispute:
    """Keep the fact as delivered, giving the reason, and close the dispute."""
    dispute = _dispute_locked(dispute)
    _require_handler(actor, dispute)
    _ensure_dispute_transition(dispute, DisputeStatus.UPHELD)
    reason = _text(reason, field="reason", label=_("维持原记录的理由"), required=True)
    before = dispute.status
    now = timezone.now()
    dispute.status = DisputeStatus.UPHELD
    dispute.handled_by = actor
    dispute.resolution = reason
    dispute.resolved_at = now
    dispute.save(update_fields=["status", "handled_by", "resolution", "resolved_at", "updated_at"])
    _dispute_event(
        dispute, kind=DisputeEventKind.UPHELD, actor=actor, from_status=before, note=reason, at=now
    )
    _notify_enterprise_dispute(
        dispute,
        kind="dispute.upheld",
        title=_("异议已办结：维持原记录"),
        body=reason,
    )
    return dispute


def dispute_escalate_overdue(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> list[Dispute]:
    """Flag open disputes past their deadline and tell the operators and the departments.

    Each dispute is escalated once (its ``escalated_at`` is set and an event written); each
    recipient gets one message listing its newly overdue disputes. Pass ``today``/``now`` to
    run for another day (tests, catch-up runs).
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    with transaction.atomic():
        overdue = list(
            Dispute.objects.select_for_update(of=("self",))
            .select_related("entity", "source")
            .filter(status__in=OPEN_DISPUTE_STATUSES, due_on__lt=today, escalated_at__isnull=True)
            .order_by("due_on", "id")
        )
        if not overdue:
            return []
        Dispute.objects.filter(pk__in=[d.pk for d in overdue]).update(
            escalated_at=now, updated_at=now
        )
        DisputeEvent.objects.bulk_create(
            [
                DisputeEvent(
                    dispute=d,
                    kind=DisputeEventKind.ESCALATED,
                    actor=None,
                    from_status=d.status,
                    to_status=d.status,
                    note=_("答复期限 %(d)s 已过（逾期 %(n)d 天），已提请平台运营方督办")
                    % {"d": d.due_on.isoformat(), "n": (today - d.due_on).days},
                    created_at=now,
                )
                for d in overdue
            ]
        )
        for d in overdue:
            d.escalated_at = now

        def send() -> None:
            by_user: dict[int, list[Dispute]] = {}
            known: dict[tuple[int, str], list[User]] = {}  # disputes share sources and regions
            for d in overdue:
                key = (d.source_id, d.entity.division_code)
                if key not in known:
                    known[key] = recipients.escalation_users(source=d.source, entity=d.entity)
                for user in known[key]:
                    by_user.setdefault(user.pk, []).append(d)
            link = reverse("credit:dispute_list") + "?overdue=1"
            for user_id, items in by_user.items():
                notification_send(
                    recipients=[user_id],
                    kind="dispute.overdue",
                    title=_("%(n)d 件异议逾期未答复") % {"n": len(items)},
                    body="\n".join(
                        _("#%(id)d %(e)s · %(c)s · 期限 %(d)s")
                        % {
                            "id": d.pk,
                            "e": d.entity.name,
                            "c": _category_label(d.category),
                            "d": d.due_on.isoformat(),
                        }
                        for d in items[:20]
                    ),
                    link=link,
                )

        transaction.on_commit(send)
    return overdue


# ---------------------------------------------------------------- credit repair


def _repair_link(application: RepairApplication) -> str:
    return reverse("credit:repair_detail", args=[application.pk])


def repair_eligibility(*, fact: Fact) -> dt.date:
    """Return the first day repair may be asked for this fact; raise if it never may.

    Only administrative-penalty facts with a known severity and decision date qualify.
    """
    if fact.category != REPAIRABLE_CATEGORY:
        raise ApplicationError(
            "not_repairable",
            _("只有行政处罚信息可以申请信用修复"),
            {"field": "fact_id"},
            status=422,
        )
    period = PUBLICATION_PERIODS.get(fact.grade)
    if period is None or fact.occurred_on is None:
        raise ApplicationError(
            "severity_unknown",
            _("该处罚信息缺少严重程度或处罚日期，无法确定公示期，请先就该信息提出异议"),
            {"field": "fact_id"},
            status=422,
        )
    return repair_earliest_on(severity=fact.grade, decided_on=fact.occurred_on)


@transaction.atomic
def repair_apply(
    *,
    actor: User,
    fact: Fact | int,
    statement: str,
    evidence: Sequence[File] = (),
    now: dt.datetime | None = None,
) -> RepairApplication:
    """Apply to repair a penalty record after its minimum publication period, with evidence."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    locked = _fact_for_update(fact if isinstance(fact, int) else fact.pk)
    entity = locked.entity
    if not rules.is_entity_member(actor, entity):
        raise PermissionDeniedError("forbidden", _("只能为本企业的处罚信息申请信用修复"))
    earliest = repair_eligibility(fact=locked)
    assert locked.occurred_on is not None
    if today < earliest:
        period = PUBLICATION_PERIODS[locked.grade]
        raise ApplicationError(
            "too_early",
            _(
                "“%(s)s”行政处罚的最短公示期为 %(m)d 个月：自处罚日期 %(d)s 起至 %(end)s 届满，"
                "%(first)s 起方可申请信用修复"
            )
            % {
                "s": period.label,
                "m": period.min_months,
                "d": locked.occurred_on.isoformat(),
                "end": (earliest - dt.timedelta(days=1)).isoformat(),
                "first": earliest.isoformat(),
            },
            {"field": "fact_id", "earliest": earliest.isoformat()},
            status=422,
        )
    existing = (
        RepairApplication.objects.filter(
            fact=locked, status__in=(RepairStatus.SUBMITTED, RepairStatus.APPROVED)
        )
        .order_by("status")
        .first()
    )
    if existing is not None:
        message = (
            _("该处罚信息已经修复")
            if existing.status == RepairStatus.APPROVED
            else _("该处罚信息已有待审核的修复申请（编号 %(n)d）") % {"n": existing.pk}
        )
        raise ConflictError("repair_exists", message, {"field": "fact_id"})
    statement = _text(statement, field="statement", label=_("整改情况说明"), required=True)
    if not evidence:
        raise ApplicationError(
            "evidence_required",
            _("请上传整改证明材料（如罚款缴纳凭证、整改报告）"),
            {"field": "evidence"},
            status=422,
        )
    checked = evidence_check(list(evidence))
    application = RepairApplication(
        entity=entity,
        fact=locked,
        source=locked.source,
        severity=locked.grade,
        decided_on=locked.occurred_on,
        statement=statement,
        filed_by=actor,
        submitted_at=now,
    )
    application.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        raise ConflictError(
            "repair_exists", _("该处罚信息已有待审核的修复申请"), {"field": "fact_id"}
        ) from exc
    _store_evidence(RepairEvidence, {"application": application}, checked, actor)
    RepairEvent.objects.create(
        application=application,
        kind=RepairEventKind.FILED,
        actor=actor,
        from_status="",
        to_status=application.status,
        note=statement,
        created_at=now,
    )
    source = locked.source
    _notify(
        lambda: recipients.handler_users(source=source, entity=entity),
        kind="repair.filed",
        title=_("新的信用修复申请：%(e)s") % {"e": entity.name},
        body=_("决定书文号 %(no)s · 处罚日期 %(d)s\n%(s)s")
        % {"no": locked.reference_no, "d": locked.occurred_on.isoformat(), "s": statement[:200]},
        link=_repair_link(application),
        organisation_id=source.organisation_id,
    )
    return application


def _repair_decide(
    *, application: RepairApplication, actor: User, to: str, reason: str
) -> RepairApplication:
    application = (
        RepairApplication.objects.select_for_update(of=("self",))
        .select_related("entity", "source")
        .get(pk=application.pk)
    )
    _require_handler(actor, application)
    if application.status != RepairStatus.SUBMITTED:
        raise ConflictError(
            "invalid_transition",
            _("该申请已审核（%(s)s）") % {"s": application.get_status_display()},
            {"field": "status"},
        )
    now = timezone.now()
    application.status = to
    application.decided_by = actor
    application.decided_at = now
    application.reason = reason
    application.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    RepairEvent.objects.create(
        application=application,
        kind=RepairEventKind.APPROVED if to == RepairStatus.APPROVED else RepairEventKind.REJECTED,
        actor=actor,
        from_status=RepairStatus.SUBMITTED,
        to_status=to,
        note=reason,
        created_at=now,
    )
    entity = application.entity
    approved = to == RepairStatus.APPROVED
    if approved:  # the repaired fact stops counting: the stored score must follow
        rescore_entities_schedule([entity.pk])
    _notify(
        lambda: recipients.entity_users(entity=entity),
        kind="repair.approved" if approved else "repair.rejected",
        title=_("信用修复申请已通过：该处罚信息不再公示") if approved else _("信用修复申请未通过"),
        body=reason,
        link=_repair_link(application),
        organisation_id=entity.organisation_id,
    )
    return application


@transaction.atomic
def repair_approve(
    *, application: RepairApplication, actor: User, reason: str = ""
) -> RepairApplication:
    """Approve repair: the record stops being shown publicly and stops counting in scores."""
    reason = _text(reason, field="reason", label=_("审核意见"), required=False)
    return _repair_decide(
        application=application,
        actor=actor,
        to=RepairStatus.APPROVED,
        reason=reason or _("整改到位，准予信用修复"),
    )


@transaction.atomic
def repair_reject(*, application: RepairApplication, actor: User, reason: str) -> RepairApplication:
    """Refuse repair, giving the reason; the enterprise may apply again later."""
    reason = _text(reason, field="reason", label=_("不予修复的理由"), required=True)
    return _repair_decide(
        application=application, actor=actor, to=RepairStatus.REJECTED, reason=reason
    )
