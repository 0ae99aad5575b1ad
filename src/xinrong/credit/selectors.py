"""Reads of credit information: who may see what of an enterprise's archive, and the logs."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import INSTITUTION_KINDS, OrgGroup
from xinrong.accounts.models import User
from xinrong.accounts.permissions import region_prefix_for
from xinrong.common.access import scope_q
from xinrong.common.crypto import sm3_hex
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit import reports, rules, services
from xinrong.credit.choices import (
    GRAPH_CONTENT,
    GRAPH_HOPS,
    OPEN_DISPUTE_STATUSES,
    PUBLIC_CATEGORIES,
    AlertStatus,
    CultivationStatus,
    DisputeStatus,
    ModelStatus,
    RepairStatus,
    Scope,
)
from xinrong.credit.features import (
    DIMENSIONS,
    FEATURES,
    FEATURES_BY_NAME,
    feature_matrix,
)
from xinrong.credit.graph import Graph, ego_graph
from xinrong.credit.models import (
    Alert,
    Authorisation,
    CreditProfile,
    CreditReport,
    CultivationCase,
    Dispute,
    DisputeEvent,
    DisputeEvidence,
    ModelEvent,
    QueryLog,
    RepairApplication,
    RepairEvent,
    RepairEvidence,
    ScoreModel,
    ScoringRun,
    WarningRuleChange,
)
from xinrong.credit.outcomes import PerformanceOverTime, ks_min_counts, performance_over_time
from xinrong.credit.scorecard import BANKABLE_GRADE, DEFAULT_BANDS, Scorecard
from xinrong.credit.warnings import EffectiveRule, rules_effective, setting_text
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.models import MarketEntity

logger = logging.getLogger(__name__)


@dataclass
class Archive:
    """What one reader may see of one enterprise's credit archive."""

    entity: MarketEntity
    categories: list[str]  # readable categories, in display order
    facts: OrderedDict[str, list[Fact]] = field(default_factory=OrderedDict)
    authorisation: Authorisation | None = None
    own: bool = False
    hidden: list[str] = field(default_factory=list)  # categories that need authorisation
    disputed: set[int] = field(default_factory=set)  # facts with an open dispute
    open_disputes: dict[int, int] = field(default_factory=dict)  # fact → its open dispute
    repaired: set[int] = field(default_factory=set)  # repaired facts (shown to the owner only)
    repair_pending: set[int] = field(default_factory=set)  # facts awaiting a repair decision


def authorisation_live(*, entity: MarketEntity, organisation_id: int) -> Authorisation | None:
    """Return the widest live authorisation of an institution for an entity."""
    now = timezone.now()
    live = list(
        Authorisation.objects.filter(
            entity=entity,
            institution_id=organisation_id,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
    )
    order = {Scope.FULL: 0, Scope.CHOSEN: 1, Scope.PUBLIC: 2}
    live.sort(key=lambda a: (order[Scope(a.scope)], -len(a.categories)))
    return live[0] if live else None


def _readable(user: User, entity: MarketEntity) -> tuple[list[str], Authorisation | None, bool]:
    all_cats = list(CATEGORIES)
    if user.group == OrgGroup.ENTERPRISE:
        if entity.organisation_id is None or user.organisation_id != entity.organisation_id:
            raise PermissionDeniedError("forbidden", _("只能查看本企业的信用档案"))
        return all_cats, None, True
    public = [c for c in all_cats if c in PUBLIC_CATEGORIES]
    org = user.organisation
    if org is None or org.kind not in INSTITUTION_KINDS:
        return public, None, False
    auth = authorisation_live(entity=entity, organisation_id=org.pk)
    if auth is None or auth.scope == Scope.PUBLIC:
        return public, auth, False
    if auth.scope == Scope.FULL:
        return all_cats, auth, False
    return [c for c in all_cats if c in PUBLIC_CATEGORIES or c in auth.categories], auth, False


def archive_read(*, user: User, entity: MarketEntity, channel: str, log: bool = True) -> Archive:
    """Return the archive the user may see; log the read when it includes non-public data.

    Institutions never see negative information past its retention date (5 years), nor
    repaired penalty records; the enterprise sees these marked. Facts with an open dispute are
    flagged for every reader. A caller passing ``log=False`` writes the query log itself (the
    credit report logs one row naming the report).
    """
    categories, auth, own = _readable(user, entity)
    qs = fact_visible().filter(entity=entity, category__in=categories).select_related("source")
    repaired = repaired_fact_ids(entity_ids=[entity.pk])
    if not own:
        qs = qs.exclude(negative=True, retention_until__lt=timezone.localdate())
        if repaired:
            qs = qs.exclude(pk__in=repaired)
    archive = Archive(
        entity=entity,
        categories=categories,
        authorisation=auth,
        own=own,
        hidden=[c for c in CATEGORIES if c not in categories],
    )
    for c in categories:
        archive.facts[c] = []
    ids = []
    for fact in qs.order_by("category", "-occurred_on", "-period", "-id"):
        archive.facts[fact.category].append(fact)
        ids.append(fact.pk)
    archive.open_disputes = open_dispute_by_fact(fact_ids=ids)
    archive.disputed = set(archive.open_disputes)
    if own:
        archive.repaired = repaired & set(ids)
        archive.repair_pending = pending_repair_fact_ids(fact_ids=ids)
    else:
        archive.open_disputes = {}  # the flag is public; the dispute itself is not
    non_public = [c for c in categories if c not in PUBLIC_CATEGORIES]
    if log and not own and auth is not None and non_public:
        services.query_log_record(
            entity=entity, user=user, authorisation=auth, channel=channel, categories=non_public
        )
    return archive


def graph_access(
    *, user: User, entity: MarketEntity
) -> tuple[list[str], Authorisation | None, bool]:
    """Return (readable categories, authorisation, own) for the entity's graph, or refuse.

    The enterprise sees its own graph; an institution needs a live authorisation from it (its
    scope decides how much shows); government and the operator see the public layer, as in the
    archive. Reading nothing, this writes no query log: the page shell calls it.
    """
    categories, auth, own = _readable(user, entity)
    org = user.organisation
    if not own and auth is None and org is not None and org.kind in INSTITUTION_KINDS:
        raise PermissionDeniedError(
            "authorisation_required",
            _("查看“%(name)s”的关系图谱须取得该企业的有效查询授权") % {"name": entity.name},
        )
    return categories, auth, own


def relationship_graph(*, user: User, entity: MarketEntity, hops: int, channel: str) -> Graph:
    """Return the entity's relationship graph as the user may see it; log non-public reads.

    Published ties (legal representative, shareholders, officers, controllers) and shared
    registered addresses are public. Guarantees, guarantee circles and shared phone numbers show
    to the enterprise itself and under a full-scope authorisation. Risk flags count the negative
    facts (within retention) of the categories the reader may see, as the archive does; a read
    that shows anything non-public is written to the enterprise's query log.
    """
    if isinstance(hops, bool) or hops not in GRAPH_HOPS:
        raise ApplicationError(
            "invalid_hops",
            _("字段“hops”（展开层数）只能是 1、2 或 3，收到的是“%(value)s”") % {"value": hops},
            {"field": "hops"},
            status=422,
        )
    categories, auth, own = graph_access(user=user, entity=entity)
    private = own or (auth is not None and auth.scope == Scope.FULL)
    graph = ego_graph(
        entity,
        hops=hops,
        guarantees=private,
        shared_phones=private,
        fact_categories=categories,
    )
    graph.own, graph.authorisation = own, auth
    non_public = [c for c in categories if c not in PUBLIC_CATEGORIES]
    if not own and auth is not None and (non_public or private):
        services.query_log_record(
            entity=entity,
            user=user,
            authorisation=auth,
            channel=channel,
            categories=[*non_public, *([GRAPH_CONTENT] if private else [])],
        )
    return graph


def authorisation_list(*, user: User, entity: MarketEntity) -> QuerySet[Authorisation]:
    """Return an enterprise's authorisations, for its own users."""
    if user.organisation_id is None or entity.organisation_id != user.organisation_id:
        raise PermissionDeniedError("forbidden", _("只能查看本企业的授权"))
    return entity.authorisations.select_related("institution", "granted_by")


def query_log_list(*, user: User, entity: MarketEntity) -> QuerySet[QueryLog]:
    """Return who read the enterprise's non-public data, for its own users."""
    if user.organisation_id is None or entity.organisation_id != user.organisation_id:
        raise PermissionDeniedError("forbidden", _("只能查看本企业的查询记录"))
    return entity.query_logs.select_related("user", "organisation")


# ---------------------------------------------------------------- scoring and portraits


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
    history = [
        (p.computed_at.date().isoformat(), p.score)
        for p in CreditProfile.objects.filter(entity=entity).order_by("computed_at", "id")
    ]
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
        X = feature_matrix(
            entity_ids=[entity.pk],
            as_of=as_of,
        )
        features = [
            (_(f.label), _fmt(float(X[f.name].iloc[0]), f.unit), str(DIMENSIONS[f.dimension]))
            for f in FEATURES
        ]
        improvements = _improvements(card, X, profile.score)
        bankable = _grade_rank(card, profile.grade) <= _grade_rank(card, BANKABLE_GRADE)
    if not own and auth is not None:
        services.query_log_record(
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
            {"at": r.started_at.strftime("%Y-%m-%d %H:%M"), "psi": round(r.psi_score or 0.0, 4)}
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


def alert_inbox(*, user: User, status: str | None = None) -> QuerySet[Alert]:
    """Return the alerts sent to the user's institution (newest first)."""
    if user.group != OrgGroup.INSTITUTION or user.organisation_id is None:
        raise PermissionDeniedError("forbidden", _("风险预警只发送给金融机构"))
    qs = Alert.objects.filter(institution_id=user.organisation_id).select_related(
        "entity", "handled_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs


@dataclass
class WarningRules:
    """The early-warning rules as they run now, and the latest changes to them."""

    rules: list[EffectiveRule]
    changes: list[WarningRuleChange]
    can_change: bool


def warning_rules(*, user: User) -> WarningRules:
    """Return the rules with their settings, for the platform operator (admins may change)."""
    permissions.require(
        user, "credit.warning_rules_view", message=_("只有平台运营方可以查看预警规则设置")
    )
    changes = list(WarningRuleChange.objects.select_related("actor")[:50])
    for c in changes:  # the recorded values in words, for the page
        c.before_text = setting_text(c.before)  # type: ignore[attr-defined]
        c.after_text = setting_text(c.after)  # type: ignore[attr-defined]
    return WarningRules(
        rules=rules_effective(),
        changes=changes,
        can_change=permissions.can(user, "credit.warning_rules_change"),
    )


def warning_rules_enabled() -> list[EffectiveRule]:
    """Return the rules that run now (what every institution's inbox explains)."""
    return [r for r in rules_effective() if r.enabled]


def alert_open_count(*, user: User) -> int:
    """Open alerts of the user's institution (0 for others)."""
    if user.group != OrgGroup.INSTITUTION or user.organisation_id is None:
        return 0
    return Alert.objects.filter(
        institution_id=user.organisation_id, status=AlertStatus.OPEN
    ).count()


# ---------------------------------------------------------------- credit cultivation


@dataclass
class Candidate:
    """An enterprise below the bankable grade whose score is rising."""

    entity: MarketEntity
    score: int
    grade: str
    score_before: int
    since: dt.date


def _require_government(user: User) -> None:
    permissions.require(user, "credit.cultivation_run", message=_("信用培植由行业主管部门办理"))


def _below_bankable() -> list[str]:
    names = [g for g, _floor in DEFAULT_BANDS]
    return names[names.index(BANKABLE_GRADE) + 1 :]


def cultivation_candidates(
    *, user: User, industry: str = "", months: int = 12, limit: int = 200
) -> list[Candidate]:
    """Entities below the bankable grade whose score rose over the last ``months``, in the
    user's region and industry sections, not already in cultivation; biggest rise first."""
    _require_government(user)
    org = user.organisation
    latest = CreditProfile.objects.filter(is_latest=True, grade__in=_below_bankable())
    prefix = region_prefix_for(user)
    if prefix:
        latest = latest.filter(entity__division_code__startswith=prefix)
    sections = list(org.industry_sections) if org is not None else []
    if industry:
        sections = [industry] if not sections or industry in sections else ["-"]
    if sections:
        within = Q()
        for letter in sections:
            within |= Q(entity__industry_code__startswith=letter)
        latest = latest.filter(within)
    active = CultivationCase.objects.filter(status=CultivationStatus.ACTIVE).values("entity_id")
    latest = latest.exclude(entity_id__in=active)
    now = {p.entity_id: p for p in latest.select_related("entity").order_by("entity_id")[:20_000]}
    since = timezone.localdate() - dt.timedelta(days=31 * months)
    first = (
        CreditProfile.objects.filter(entity_id__in=list(now), computed_at__date__gte=since)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("entity_id")], order_by=[F("computed_at"), F("id")]
            )
        )
        .filter(rank=1)
        .values_list("entity_id", "score", "computed_at")
    )
    out = [
        Candidate(now[eid].entity, now[eid].score, now[eid].grade, score, at.date())
        for eid, score, at in first
        if now[eid].score > score
    ]
    out.sort(key=lambda c: (c.score_before - c.score, c.entity.pk))
    return out[:limit]


def cultivation_list(*, user: User) -> QuerySet[CultivationCase]:
    """Cases of the user's department (operators: the cases of their region's entities)."""
    if not (
        permissions.can(user, "credit.cultivation_run")
        or permissions.can(user, "credit.cultivation_view")
    ):
        raise PermissionDeniedError("forbidden", _("信用培植由行业主管部门办理"))
    return CultivationCase.objects.restrict(user).select_related(
        "entity", "authority", "started_by"
    )


def cultivation_get(*, user: User, pk: int) -> CultivationCase:
    """One case the user may see."""
    case = cultivation_list(user=user).filter(pk=pk).first()
    if case is None:
        raise NotFoundError("case_not_found", _("培植记录不存在"), {"field": "case"})
    return case


# ---------------------------------------------------------------- credit reports

QUERY_RECORD_DAYS = 2 * 365 + 1  # the report's query records cover the last two years


def report_access(*, user: User, entity: MarketEntity) -> tuple[bool, Authorisation | None]:
    """Return (own, authorisation) when the user may generate the entity's credit report.

    The enterprise's own owner or agent may; so may an institution holding a live authorisation
    wider than public information. Everyone else is refused (403).
    """
    if user.group == OrgGroup.ENTERPRISE:
        permissions.require(
            user, "credit.report_generate", entity, message=_("只能生成本企业的信用报告")
        )
        return True, None
    org = user.organisation
    if org is None or org.kind not in INSTITUTION_KINDS:
        raise PermissionDeniedError(
            "forbidden", _("只有企业本身和获得企业授权的金融机构可以生成信用报告")
        )
    auth = authorisation_live(entity=entity, organisation_id=org.pk)
    if auth is None or auth.scope == Scope.PUBLIC:
        raise PermissionDeniedError(
            "authorisation_required",
            _(
                "生成信用报告需要企业的有效授权（授权范围为“全部信息”或“指定类别”），请先取得企业授权"
            ),
        )
    return False, auth


@dataclass
class QueryRecords:
    """The entity's query log of the last two years, as a report prints it."""

    total: int
    rows: list[QueryLog] = field(default_factory=list)  # own report: the latest reads
    # institution's report: (organisation kind code, organisations, reads), never names
    by_kind: list[tuple[str, int, int]] = field(default_factory=list)


def report_query_records(*, entity: MarketEntity, own: bool, limit: int) -> QueryRecords:
    """Return the query records a report shows: rows for the enterprise, counts for others."""
    since = timezone.now() - dt.timedelta(days=QUERY_RECORD_DAYS)
    qs = QueryLog.objects.filter(entity=entity, accessed_at__gte=since)
    total = qs.count()
    if own:
        rows = list(qs.select_related("organisation").order_by("-accessed_at", "-id")[:limit])
        return QueryRecords(total=total, rows=rows)
    grouped = (
        qs.values("organisation__kind")
        .annotate(orgs=Count("organisation", distinct=True), n=Count("id"))
        .order_by("-n", "organisation__kind")
    )
    return QueryRecords(
        total=total, by_kind=[(r["organisation__kind"], r["orgs"], r["n"]) for r in grouped]
    )


def report_list(*, user: User, entity: MarketEntity) -> QuerySet[CreditReport]:
    """Return the entity's reports generated by the user's own organisation, newest first."""
    if user.organisation_id is None:
        return CreditReport.objects.none()
    return CreditReport.objects.filter(
        entity=entity, organisation_id=user.organisation_id
    ).select_related("requested_by")


def report_get(*, user: User, number: str) -> CreditReport:
    """Return a report for download by its generating organisation; others get 404."""
    code = reports.normalise_number(number)
    report = (
        CreditReport.objects.select_related("entity")
        .filter(number=code, organisation_id=user.organisation_id)
        .first()
        if user.organisation_id is not None
        else None
    )
    if report is None:
        raise NotFoundError(
            "report_not_found",
            _("未找到编号为 %(n)s 的信用报告，或该报告不是本机构生成的") % {"n": code},
            {"field": "number"},
        )
    return report


def report_file_read(*, report: CreditReport) -> bytes:
    """Return the stored PDF after checking it still has the SM3 digest it was issued with."""
    try:
        with report.file.open("rb") as fh:
            data = fh.read()
    except (FileNotFoundError, ValueError) as exc:
        raise NotFoundError(
            "report_file_missing",
            _("报告 %(n)s 的文件已不存在，请重新生成信用报告") % {"n": report.number},
            {"field": "number"},
        ) from exc
    if sm3_hex(data) != report.sm3:
        logger.error("credit report %s: stored file does not match its SM3 digest", report.number)
        raise ApplicationError(
            "report_integrity",
            _("报告 %(n)s 的存储文件与生成时的 SM3 摘要不一致，已停止下载，请联系平台运营方")
            % {"n": report.number},
            {"field": "number"},
            status=409,
        )
    return data


@dataclass
class ReportVerification:
    """What the public may learn from a report number, and whether a copy matches it."""

    number: str
    entity_name: str
    uscc: str
    generated_at: dt.datetime
    audience: str
    audience_label: str
    model_version: int | None
    score: int | None
    grade: str
    pages: int
    size: int
    sm3: str
    checked: str = ""  # "file", "digest" or "" (number only)
    matches: bool | None = None


def report_verify(
    *, number: str, digest: str | None = None, document: bytes | None = None
) -> ReportVerification:
    """Look a report up by number (public); compare an uploaded copy or a pasted SM3 digest.

    An unknown or malformed number raises NotFoundError (404). Name and USCC are public
    registration information; the generating institution is not disclosed.
    """
    code = reports.normalise_number(number)
    report = CreditReport.objects.select_related("entity").filter(number=code).first()
    if report is None:
        raise NotFoundError(
            "report_not_found",
            _("未找到编号为 %(n)s 的信用报告：请核对报告页脚的报告编号。该报告可能不是本平台出具的")
            % {"n": code},
            {"field": "number"},
        )
    result = ReportVerification(
        number=report.number,
        entity_name=report.entity.name,
        uscc=report.entity.uscc,
        generated_at=report.generated_at,
        audience=report.audience,
        audience_label=str(report.get_audience_display()),
        model_version=report.model_version,
        score=report.score,
        grade=report.grade,
        pages=report.pages,
        size=report.size,
        sm3=report.sm3,
    )
    if document is not None:
        result.checked = "file"
        # a copy of another size cannot match: no need to hash it
        result.matches = len(document) == report.size and hmac.compare_digest(
            sm3_hex(document), report.sm3
        )
    elif digest:
        result.checked = "digest"
        result.matches = hmac.compare_digest(reports.normalise_digest(digest), report.sm3)
    return result


# ============================================================================================
# Disputes (异议) and credit repair (信用修复): flags other features reuse, and visible lists.
# ============================================================================================

_ID_CHUNK = 5000  # ids per IN (...) list: within SQLite's parameter limit
_MAX_ID = 2**63 - 1  # a larger id cannot exist (64-bit keys); refuse it before the database


def _valid_id(pk: int) -> bool:
    return 0 < pk <= _MAX_ID


def _chunked(ids: Iterable[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), _ID_CHUNK):
        yield unique[start : start + _ID_CHUNK]


def open_dispute_by_fact(*, fact_ids: Iterable[int]) -> dict[int, int]:
    """Return {fact id: id of its open dispute} for those of ``fact_ids`` in dispute."""
    out: dict[int, int] = {}
    for part in _chunked(fact_ids):
        out.update(
            Dispute.objects.filter(fact_id__in=part, status__in=OPEN_DISPUTE_STATUSES).values_list(
                "fact_id", "pk"
            )
        )
    return out


def disputed_fact_ids(*, fact_ids: Iterable[int]) -> set[int]:
    """Return which of ``fact_ids`` have an open dispute (submitted or in review).

    Every place that shows a fact flags these as 「异议处理中」 (征信业管理条例 第二十五条:
    an objection is marked on the information while it is checked): the archive page and API,
    the export, and — through this same selector — the portrait and the PDF report.
    """
    return set(open_dispute_by_fact(fact_ids=fact_ids))


def repaired_fact_ids(*, entity_ids: Iterable[int] | None = None) -> set[int]:
    """Return the ids of facts whose credit repair was approved (optionally of some entities).

    A repaired penalty record stops being shown publicly and stops counting in the credit
    score. The scoring feature builder drops these ids from the facts it reads, e.g.::

        repaired = repaired_fact_ids(entity_ids=chunk_ids)
        facts = facts.exclude(pk__in=repaired)  # or a NumPy mask over fact ids

    Repairs are few (one approved row per repaired fact), so the set stays small even for a
    province; for a query without a Python set use ``features.exclude_repaired``.
    """
    qs = RepairApplication.objects.filter(status=RepairStatus.APPROVED)
    if entity_ids is None:
        return set(qs.values_list("fact_id", flat=True))
    out: set[int] = set()
    for part in _chunked(entity_ids):
        out.update(qs.filter(entity_id__in=part).values_list("fact_id", flat=True))
    return out


def pending_repair_fact_ids(*, fact_ids: Iterable[int]) -> set[int]:
    """Return which of ``fact_ids`` have a repair application waiting for a decision."""
    out: set[int] = set()
    for part in _chunked(fact_ids):
        out.update(
            RepairApplication.objects.filter(
                fact_id__in=part, status=RepairStatus.SUBMITTED
            ).values_list("fact_id", flat=True)
        )
    return out


def _case_scope(user: User, qs: QuerySet[Any]) -> QuerySet[Any]:
    """Limit disputes or repair applications to what the user may see.

    The enterprise sees its own; a department's data provider those about its sources; the
    operator's admins and auditors all (a sub-station: its region). Others see nothing.
    """
    q = scope_q(qs.model, user)
    if q is None:
        raise PermissionDeniedError("forbidden", _("您无权查看异议与信用修复"))
    return qs.filter(q)


def dispute_list(
    *, user: User, status: str = "", overdue: bool = False, today: dt.date | None = None
) -> QuerySet[Dispute]:
    """Return the disputes the user may see; open ones first, earliest deadline first.

    ``overdue`` keeps open disputes past their deadline (as of ``today``).
    """
    qs = _case_scope(
        user,
        Dispute.objects.select_related("entity", "source__organisation", "filed_by", "handled_by"),
    )
    if status:
        if status not in DisputeStatus.values:
            raise ApplicationError(
                "invalid_status",
                _("状态只能是：%(s)s") % {"s": " / ".join(DisputeStatus.values)},
                {"field": "status"},
                status=422,
            )
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=OPEN_DISPUTE_STATUSES, due_on__lt=today or timezone.localdate())
    closed = Case(
        When(status__in=OPEN_DISPUTE_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(closed=closed).order_by("closed", "due_on", "-submitted_at", "-id")


def dispute_get(*, user: User, pk: int) -> Dispute:
    """Return one dispute the user may see, or raise NotFoundError."""
    dispute = (
        dispute_list(user=user).select_related("fact").filter(pk=pk).first()
        if _valid_id(pk)
        else None
    )
    if dispute is None or not permissions.can(user, "credit.case_view", dispute):
        raise NotFoundError("dispute_not_found", _("异议不存在"), {"field": "dispute"})
    return dispute


def dispute_events(*, dispute: Dispute) -> QuerySet[DisputeEvent]:
    """Return a dispute's timeline, oldest first."""
    return dispute.events.select_related("actor").order_by("id")


def dispute_evidence(*, dispute: Dispute) -> QuerySet[DisputeEvidence]:
    """Return a dispute's evidence files."""
    return dispute.evidence.select_related("uploaded_by")


def dispute_counts(*, user: User, today: dt.date | None = None) -> dict[str, int]:
    """Return open and overdue disputes the user may see (for dashboards and badges)."""
    qs = _case_scope(user, Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES))
    return qs.aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today or timezone.localdate()))
    )


def repair_list(*, user: User, status: str = "") -> QuerySet[RepairApplication]:
    """Return the repair applications the user may see; pending ones first."""
    qs = _case_scope(
        user,
        RepairApplication.objects.select_related(
            "entity", "source__organisation", "filed_by", "decided_by", "fact"
        ),
    )
    if status:
        if status not in RepairStatus.values:
            raise ApplicationError(
                "invalid_status",
                _("状态只能是：%(s)s") % {"s": " / ".join(RepairStatus.values)},
                {"field": "status"},
                status=422,
            )
        qs = qs.filter(status=status)
    pending = Case(
        When(status=RepairStatus.SUBMITTED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(decided=pending).order_by("decided", "-submitted_at", "-id")


def repair_get(*, user: User, pk: int) -> RepairApplication:
    """Return one repair application the user may see, or raise NotFoundError."""
    application = repair_list(user=user).filter(pk=pk).first() if _valid_id(pk) else None
    if application is None or not permissions.can(user, "credit.case_view", application):
        raise NotFoundError("repair_not_found", _("信用修复申请不存在"), {"field": "repair"})
    return application


def repair_events(*, application: RepairApplication) -> QuerySet[RepairEvent]:
    """Return a repair application's timeline, oldest first."""
    return application.events.select_related("actor").order_by("id")


def repair_evidence(*, application: RepairApplication) -> QuerySet[RepairEvidence]:
    """Return a repair application's evidence files."""
    return application.evidence.select_related("uploaded_by")


def own_fact_get(*, user: User, pk: int) -> Fact:
    """Return a visible fact of the user's own enterprise (to dispute or repair it)."""
    fact = (
        fact_visible().select_related("source", "entity").filter(pk=pk).first()
        if _valid_id(pk)
        else None
    )
    if fact is None or not rules.is_entity_member(user, fact.entity):
        raise NotFoundError("fact_not_found", _("信用信息不存在"), {"field": "fact_id"})
    return fact
