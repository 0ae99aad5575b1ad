"""Writes of credit information: authorisations, the query log, scoring models and profiles."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinrong.accounts.choices import INSTITUTION_KINDS, OrgGroup, Role
from xinrong.accounts.models import Organisation, User
from xinrong.common.crypto import sm3_hex
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.credit import scorecard, synthetic
from xinrong.credit.choices import (
    MAX_AUTHORISATION_DAYS,
    PUBLIC_CATEGORIES,
    AlertStatus,
    Channel,
    CultivationStatus,
    ModelStatus,
    Purpose,
    ReportAudience,
    Scope,
    TrainingData,
)
from xinrong.credit.features import FEATURES, feature_matrix
from xinrong.credit.models import (
    Alert,
    Authorisation,
    CreditProfile,
    CreditReport,
    CultivationCase,
    CultivationNote,
    ModelEvent,
    QueryLog,
    ScoreModel,
    ScoringRun,
)
from xinrong.datahub.categories import CATEGORIES
from xinrong.enterprises.models import MarketEntity

logger = logging.getLogger(__name__)


def _require_owner(actor: User, entity: MarketEntity) -> None:
    if not (
        actor.group == OrgGroup.ENTERPRISE
        and entity.organisation_id is not None
        and actor.organisation_id == entity.organisation_id
        and actor.has_role(Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT)
    ):
        raise PermissionDeniedError("forbidden", _("只有本企业的账户可以管理查询授权"))


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


def _require_model_admin(actor: User | None) -> None:
    if actor is None:  # the command line, run by whoever runs the server
        return
    if not (
        actor.is_superuser
        or (actor.group == OrgGroup.OPERATOR and actor.has_role(Role.OPERATOR_ADMIN))
    ):
        raise PermissionDeniedError("forbidden", _("只有平台运营管理员可以训练或启用评分模型"))


def _score_histogram(scores: np.ndarray) -> list[int]:
    clipped = np.clip(scores, SCORE_BUCKETS[0], SCORE_BUCKETS[-1] - 1e-9)
    counts, _edges = np.histogram(clipped, bins=SCORE_BUCKETS)
    return [int(c) for c in counts]


def model_train(
    *,
    actor: User | None,
    name: str = "",
    seed: int = 20221,
    as_of: dt.date | None = None,
    base_points: float = 600.0,
    base_odds: float = 50.0,
    pdo: float = 20.0,
) -> ScoreModel:
    """Train a scorecard version on the current feature matrix and store it as a draft.

    Outcomes: the platform's own loan outcomes once the marketplace records them; until then
    the documented synthetic process (credit.synthetic), whose true probabilities let the
    metrics report how much of the true signal the model recovers.
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
    X = feature_matrix(as_of=as_of, exclude_fact_ids=repaired_fact_ids_for_scoring())
    if len(X) < 200:
        raise ApplicationError(
            "too_few_entities",
            _("主体数量不足（%(n)d），至少需要200个主体才能训练评分模型") % {"n": len(X)},
            {"field": "entities"},
            status=422,
        )
    y, p_true = synthetic.outcomes(X, seed=seed)
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
    oracle_auc, oracle_ks = scorecard.auc_ks(y[test], p_true[test])
    z = synthetic.latent_risk(X)
    rank_corr = float(pd.Series(scores).corr(pd.Series(-z), method="spearman"))
    metrics = {
        "auc_train": round(auc_train, 4),
        "ks_train": round(ks_train, 4),
        "auc_test": round(auc_test, 4),
        "ks_test": round(ks_test, 4),
        "gini_test": round(2 * auc_test - 1, 4),
        "oracle_auc_test": round(oracle_auc, 4),
        "oracle_ks_test": round(oracle_ks, 4),
        "score_vs_true_risk_spearman": round(rank_corr, 4),
        "iv": {f.name: round(f.iv, 4) for f in card.features},
    }
    version = (ScoreModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    model = ScoreModel(
        version=version,
        name=name or _("小微企业信用评分卡 v%(v)d") % {"v": version},
        card=card.to_json(),
        metrics=metrics,
        training={
            "data": TrainingData.SYNTHETIC,
            "seed": seed,
            "as_of": (as_of or timezone.localdate()).isoformat(),
            "entities": len(X),
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
        note=f"AUC {auc_test:.3f} / KS {ks_test:.3f} (test)",
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


def repaired_fact_ids_for_scoring() -> list[int]:
    """Facts that must not count in scores (repaired penalties); none until repair exists."""
    return []


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
    X = feature_matrix(
        entity_ids=entity_ids, as_of=as_of, exclude_fact_ids=repaired_fact_ids_for_scoring()
    )
    result = card.score(X)
    scores = np.clip(np.rint(result.score), 0, 999).astype(np.int64)
    grades = card.grade(scores.astype(np.float64))
    dims = scorecard.dimension_scores(card, result, {f.name: f.dimension for f in FEATURES})
    top = scorecard.reasons(card, result)
    names = np.array([f.name for f in card.features] + [""], dtype=object)
    reason_text = [",".join(r for r in row if r) for row in names[top].tolist()]
    ids = X.index.to_numpy(dtype=np.int64)
    previous = (
        dict(
            (eid, (s, g, m))
            for eid, s, g, m in CreditProfile.objects.filter(
                is_latest=True, entity_id__in=ids.tolist()
            )
            .values_list("entity_id", "score", "grade", "model_id")
            .iterator(chunk_size=20_000)
        )
        if entity_ids is not None
        else {
            eid: (s, g, m)
            for eid, s, g, m in CreditProfile.objects.filter(is_latest=True)
            .values_list("entity_id", "score", "grade", "model_id")
            .iterator(chunk_size=20_000)
        }
    )
    changed = np.fromiter(
        (
            previous.get(eid) != (s, g, model.pk)
            for eid, s, g in zip(ids.tolist(), scores.tolist(), grades.tolist(), strict=True)
        ),
        bool,
        len(ids),
    )
    now = timezone.now()
    rows = np.flatnonzero(changed)
    stale = [int(ids[i]) for i in rows if int(ids[i]) in previous]
    with transaction.atomic():
        for start in range(0, len(stale), 10_000):
            CreditProfile.objects.filter(
                entity_id__in=stale[start : start + 10_000], is_latest=True
            ).update(is_latest=False)
        CreditProfile.objects.bulk_create(
            [
                CreditProfile(
                    entity_id=int(ids[i]),
                    model=model,
                    run=run,
                    score=int(scores[i]),
                    grade=str(grades[i]),
                    reasons=reason_text[i],
                    computed_at=now,
                    **{f"dim_{d}": float(dims[d][i]) for d in dims},
                )
                for i in rows.tolist()
            ],
            batch_size=5000,
        )
    cultivation_graduate(entity_ids=None if entity_ids is None else ids.tolist())
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


def rescore_schedule(*, entity_ids: list[int] | None) -> None:
    """Queue a rescoring after the current transaction commits (all entities when None)."""
    from xinrong.credit import tasks

    if entity_ids is None:
        transaction.on_commit(lambda: tasks.rescore_all.enqueue())
    else:
        ids = list(entity_ids)
        transaction.on_commit(lambda: tasks.rescore_entities.enqueue(ids))


# ---------------------------------------------------------------- early warning


def alerts_raise(*, entity_ids: list[int], batch_id: int | None = None) -> int:
    """Run every warning rule and alert the institutions holding a live authorisation.

    Returns the number of new alerts (repeats of an alert already raised are skipped).
    """
    from xinrong.credit import warnings

    if not entity_ids:
        return 0
    ctx = warnings.Context(batch_id=batch_id, entity_ids=entity_ids)
    findings = [(rule, eid, detail) for rule in warnings.RULES for eid, detail in rule.check(ctx)]
    if not findings:
        return 0
    watchers: dict[int, set[int]] = {}
    for eid, org in Authorisation.objects.filter(
        entity_id__in={eid for _r, eid, _d in findings},
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).values_list("entity_id", "institution_id"):
        watchers.setdefault(eid, set()).add(org)
    alerts = [
        Alert(
            entity_id=eid,
            institution_id=org,
            rule=rule.id,
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


def _require_alert_owner(alert: Alert, actor: User) -> None:
    if actor.organisation_id != alert.institution_id or actor.group != OrgGroup.INSTITUTION:
        raise PermissionDeniedError("forbidden", _("只能处理本机构收到的预警"))


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
    if actor.group != OrgGroup.GOVERNMENT or actor.organisation_id is None:
        raise PermissionDeniedError("forbidden", _("信用培植由行业主管部门办理"))


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

    Hook for the disputes work on another branch: the lead wires it at merge to
    ``credit.selectors.disputed_fact_ids`` (pending disputes only). The report then lists those
    facts under 异议信息 and marks them 异议中 in their category. Empty until then.
    """
    return []


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
