"""Reads of credit information: who may see what of an enterprise's archive, and the logs."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import INSTITUTION_KINDS, OrgGroup
from xinrong.accounts.models import User
from xinrong.accounts.selectors import region_prefix_for
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit import services
from xinrong.credit.choices import (
    GRAPH_CONTENT,
    GRAPH_HOPS,
    PUBLIC_CATEGORIES,
    AlertStatus,
    CultivationStatus,
    ModelStatus,
    Scope,
)
from xinrong.credit.features import DIMENSIONS, FEATURES, FEATURES_BY_NAME, feature_matrix
from xinrong.credit.graph import Graph, ego_graph
from xinrong.credit.models import (
    Alert,
    Authorisation,
    CreditProfile,
    CultivationCase,
    ModelEvent,
    QueryLog,
    ScoreModel,
    ScoringRun,
)
from xinrong.credit.scorecard import BANKABLE_GRADE, DEFAULT_BANDS, Scorecard
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.models import MarketEntity


@dataclass
class Archive:
    """What one reader may see of one enterprise's credit archive."""

    entity: MarketEntity
    categories: list[str]  # readable categories, in display order
    facts: OrderedDict[str, list[Fact]] = field(default_factory=OrderedDict)
    authorisation: Authorisation | None = None
    own: bool = False
    hidden: list[str] = field(default_factory=list)  # categories that need authorisation


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


def archive_read(*, user: User, entity: MarketEntity, channel: str) -> Archive:
    """Return the archive the user may see; log the read when it includes non-public data.

    Institutions never see negative information past its retention date (5 years).
    """
    categories, auth, own = _readable(user, entity)
    qs = fact_visible().filter(entity=entity, category__in=categories).select_related("source")
    if not own:
        qs = qs.exclude(negative=True, retention_until__lt=timezone.localdate())
    archive = Archive(
        entity=entity,
        categories=categories,
        authorisation=auth,
        own=own,
        hidden=[c for c in CATEGORIES if c not in categories],
    )
    for c in categories:
        archive.facts[c] = []
    for fact in qs.order_by("category", "-occurred_on", "-period", "-id"):
        archive.facts[fact.category].append(fact)
    non_public = [c for c in categories if c not in PUBLIC_CATEGORIES]
    if not own and auth is not None and non_public:
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
    if not (user.is_superuser or user.group == OrgGroup.OPERATOR):
        raise PermissionDeniedError("forbidden", _("只有平台运营方可以查看评分模型"))
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
        X = feature_matrix(entity_ids=[entity.pk], as_of=as_of)
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
    return Portrait(entity, own, profile, history, dims, reasons, features, improvements, bankable)


def _grade_rank(card: Scorecard, grade: str) -> int:
    names = [g for g, _floor in card.bands]
    return names.index(grade) if grade in names else len(names)


def _improvements(card: Scorecard, X: pd.DataFrame, score: int) -> list[Improvement]:
    """Attainable changes ranked by the points they add, applied one after another."""
    result = card.score(X)
    options = []
    for j, f in enumerate(card.features):
        spec = FEATURES_BY_NAME.get(f.name)
        if spec is None or not spec.actionable:
            continue
        best = int(np.argmax(f.points[:-1]))  # a real bin, not "missing"
        gain = f.points[best] - result.points[0, j]
        if gain >= 1.0:
            value = float(X[f.name].iloc[0])
            options.append((gain, f, spec, best, value))
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


def model_detail(*, user: User, version: int) -> ModelDetail:
    """Return a version's bins, points, metrics, audit events and recent runs' PSI."""
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
    return ModelDetail(
        model, card, features, list(model.events.select_related("actor")), runs, chart, grades
    )


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
    if not (user.is_superuser or user.group == OrgGroup.GOVERNMENT):
        raise PermissionDeniedError("forbidden", _("信用培植由行业主管部门办理"))


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
    """Cases of the user's department (all cases for operators)."""
    if user.is_superuser or user.group == OrgGroup.OPERATOR:
        qs = CultivationCase.objects.all()
    else:
        _require_government(user)
        qs = CultivationCase.objects.filter(authority_id=user.organisation_id)
    return qs.select_related("entity", "authority", "started_by")


def cultivation_get(*, user: User, pk: int) -> CultivationCase:
    """One case the user may see."""
    case = cultivation_list(user=user).filter(pk=pk).first()
    if case is None:
        raise NotFoundError("case_not_found", _("培植记录不存在"), {"field": "case"})
    return case
