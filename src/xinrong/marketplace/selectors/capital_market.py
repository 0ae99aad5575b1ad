"""Reads of the 上市挂牌后备库 (capital-market reserve): screening, entries, interest, cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.permissions import is_central_operator_staff, is_substation_staff, region_q
from xinrong.common.errors import NotFoundError, PermissionDeniedError
from xinrong.credit.features import feature_matrix
from xinrong.credit.models import CreditProfile
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.choices import RegistrationStatus
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import InterestStatus, ReserveStatus
from xinrong.marketplace.models import (
    DirectFinancingCase,
    InvestorInterest,
    ReserveCandidate,
    ReserveEvent,
)
from xinrong.marketplace.rules import reserve_institution
from xinrong.marketplace.selectors.common import (
    _grade_param,
    _grades_from,
    _region_param,
    sees_grades,
    user_entity,
)
from xinrong.reference import divisions

# ---------------------------------------------------------------- 上市挂牌后备库 reserve database


def is_investor(user: User) -> bool:
    """Return whether the user works for an investor (angel/PE/VC, regional equity exchange)."""
    org = user.organisation
    return org is not None and org.kind == OrgKind.INVESTOR and org.is_active


def reserve_side(user: User) -> str:
    """Return how the user uses the reserve: "operator", "investor", "enterprise" or ""."""
    if sees_grades(user):
        return "operator"
    if is_investor(user):
        return "investor"
    if user_entity(user=user) is not None:
        return "enterprise"
    if reserve_institution(user):
        return "institution"  # a bank the operator opened the reserve to: browses, no interest
    return ""


@dataclass(frozen=True)
class ReserveCriteria:
    """The operator's screening criteria (each empty one is not applied)."""

    min_grade: str = "A"
    honour: str = ""  # e.g. 专精特新: an honour fact or a registry tag containing it
    min_tax_paid_wan: Decimal | None = None  # 近12个月纳税额 (万元)
    min_years: Decimal | None = None
    region: str = ""
    include_reserved: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the criteria as JSON-ready values (the reserve entry's snapshot)."""
        return {
            "min_grade": self.min_grade,
            "honour": self.honour,
            "min_tax_paid_wan": str(self.min_tax_paid_wan)
            if self.min_tax_paid_wan is not None
            else "",
            "min_years": str(self.min_years) if self.min_years is not None else "",
            "region": self.region,
        }


def criteria_sentences(criteria: Mapping[str, Any]) -> list[str]:
    """Return a reserve entry's screening criteria as people read them ("信用等级不低于 A")."""
    from xinrong.reference import divisions

    out: list[str] = []
    if criteria.get("min_grade"):
        out.append(_("信用等级不低于 %(g)s") % {"g": criteria["min_grade"]})
    if criteria.get("honour"):
        out.append(_("荣誉/资质含“%(h)s”") % {"h": criteria["honour"]})
    if criteria.get("min_tax_paid_wan"):
        out.append(_("近12个月纳税额不低于 %(t)s 万元") % {"t": criteria["min_tax_paid_wan"]})
    if criteria.get("min_years"):
        out.append(_("经营年限不低于 %(y)s 年") % {"y": criteria["min_years"]})
    if criteria.get("region"):
        code = str(criteria["region"])
        out.append(_("地区：%(r)s") % {"r": divisions.full_name(code) or code})
    return out


def _decimal_param(data: Mapping[str, object], name: str, label: str, top: int) -> Decimal | None:
    raw = str(data.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("-1")
    if not value.is_finite() or not 0 <= value <= top:
        raise ValidationError(
            {name: _("%(l)s应为 0–%(t)s 之间的数字") % {"l": label, "t": top}}, code="invalid"
        )
    return value


def reserve_criteria_parse(data: Mapping[str, object]) -> ReserveCriteria:
    """Return screening criteria from parameters, or raise ValidationError naming the field."""
    honour = str(data.get("honour") or "").strip()
    if len(honour) > 40 or "\x00" in honour:
        raise ValidationError({"honour": _("荣誉/资质关键词不超过 40 字")}, code="invalid")
    return ReserveCriteria(
        min_grade=_grade_param(data, "min_grade"),
        honour=honour,
        min_tax_paid_wan=_decimal_param(
            data, "min_tax_paid_wan", _("近12个月纳税额（万元）"), 10_000_000
        ),
        min_years=_decimal_param(data, "min_years", _("经营年限（年）"), 200),
        region=_region_param(data),
        include_reserved=str(data.get("include_reserved") or "") in ("1", "on", "true"),
    )


@dataclass(frozen=True)
class ReserveMetrics:
    """An entity's screening indicators (non-public: the operator's eyes only)."""

    score: int | None
    grade: str
    years_in_business: float | None
    tax_paid_wan: float | None
    honours: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "years_in_business": None
            if self.years_in_business is None
            else round(self.years_in_business, 1),
            "tax_paid_wan": None if self.tax_paid_wan is None else round(self.tax_paid_wan, 2),
            "honours": self.honours,
        }


def _nan_none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def reserve_metrics(*, entity_ids: Iterable[int]) -> dict[int, ReserveMetrics]:
    """Return screening indicators of many entities from their latest profile and one
    column-wise feature matrix."""
    ids = sorted(set(entity_ids))
    if not ids:
        return {}
    profiles = {
        eid: (score, grade)
        for eid, score, grade in CreditProfile.objects.filter(
            entity_id__in=ids, is_latest=True
        ).values_list("entity_id", "score", "grade")
    }
    matrix = feature_matrix(entity_ids=ids)
    out: dict[int, ReserveMetrics] = {}
    for eid in ids:
        score, grade = profiles.get(eid, (None, ""))
        row = matrix.loc[eid] if eid in matrix.index else None
        out[eid] = ReserveMetrics(
            score=score,
            grade=grade,
            years_in_business=None if row is None else _nan_none(row["years_in_business"]),
            tax_paid_wan=None if row is None else _nan_none(row["tax_paid_12m"]),
            honours=0 if row is None or np.isnan(row["honours"]) else int(row["honours"]),
        )
    return out


@dataclass(frozen=True)
class ScreenRow:
    """One entity the screen found."""

    entity: MarketEntity
    metrics: ReserveMetrics
    in_reserve: bool


def reserve_screen(
    *, user: User, criteria: ReserveCriteria, limit: int = 200
) -> tuple[list[ScreenRow], int]:
    """Screen all live entities for the reserve, best score first, and count the matches.

    Grade, region, honour and "already in the reserve" narrow the entities in SQL; the numeric
    thresholds (years in business, tax paid in 12 months) are applied column-wise on the feature
    matrix of the remaining entities.
    """
    if not sees_grades(user):
        raise PermissionDeniedError("forbidden", _("只有平台运营方可以筛选上市挂牌后备企业"))
    profiles = CreditProfile.objects.filter(
        is_latest=True, entity__registration_status=RegistrationStatus.ACTIVE
    )
    if criteria.min_grade:
        profiles = profiles.filter(grade__in=_grades_from(criteria.min_grade))
    profiles = profiles.filter(region_q(user, "entity__division_code"))  # a sub-station: its region
    if criteria.region:
        wanted = divisions.descendants_prefix(criteria.region)
        profiles = profiles.filter(entity__division_code__startswith=wanted)
    if criteria.honour:
        honour_fact = fact_visible().filter(
            entity_id=OuterRef("entity_id"), category="honour", status__contains=criteria.honour
        )
        tagged = MarketEntity.tags.through.objects.filter(
            marketentity_id=OuterRef("entity_id"), tag__name__contains=criteria.honour
        )
        profiles = profiles.filter(Exists(honour_fact) | Exists(tagged))
    if not criteria.include_reserved:
        profiles = profiles.exclude(
            Exists(ReserveCandidate.objects.filter(entity_id=OuterRef("entity_id")))
        )
    rows = list(profiles.values_list("entity_id", "score"))
    if not rows:
        return [], 0
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    frame = pd.DataFrame({"score": [r[1] for r in rows]}, index=ids)
    if criteria.min_years is not None or criteria.min_tax_paid_wan is not None:
        matrix = feature_matrix(entity_ids=ids.tolist())
        frame = frame.join(matrix[["years_in_business", "tax_paid_12m"]])
        keep = np.ones(len(frame), dtype=bool)
        if criteria.min_years is not None:  # NaN (unknown) compares False: not selected
            keep &= frame["years_in_business"].to_numpy() >= float(criteria.min_years)
        if criteria.min_tax_paid_wan is not None:
            keep &= frame["tax_paid_12m"].to_numpy() >= float(criteria.min_tax_paid_wan)
        frame = frame[keep]
    frame = frame.sort_values("score", ascending=False, kind="stable")
    top = [int(i) for i in frame.index[:limit]]
    entities = MarketEntity.objects.in_bulk(top)
    metrics = reserve_metrics(entity_ids=top)
    reserved = set(
        ReserveCandidate.objects.filter(entity_id__in=top).values_list("entity_id", flat=True)
    )
    return [
        ScreenRow(entity=entities[i], metrics=metrics[i], in_reserve=i in reserved)
        for i in top
        if i in entities
    ], len(frame)


def reserve_visible(*, user: User, status: str = "") -> QuerySet[ReserveCandidate]:
    """Return the reserve entries the user may see: all (operator; a sub-station its region),
    the active ones (investors), the entity's own (enterprise); newest first."""
    qs = ReserveCandidate.objects.select_related("entity", "added_by")
    side = reserve_side(user)
    if side == "operator":
        if is_substation_staff(user) and not is_central_operator_staff(user):
            assert user.organisation is not None
            prefix = divisions.descendants_prefix(user.organisation.region_code)
            qs = qs.filter(entity__division_code__startswith=prefix)
    elif side in ("investor", "institution"):
        qs = qs.filter(status=ReserveStatus.ACTIVE)
    elif side == "enterprise":
        qs = qs.filter(entity=user_entity(user=user))
    else:
        qs = qs.none()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def reserve_get(*, user: User, pk: int) -> ReserveCandidate:
    """Return one visible reserve entry, or 404."""
    entry = reserve_visible(user=user).filter(pk=pk).first()
    if entry is None:
        raise NotFoundError("not_found", _("后备库企业不存在"))
    return entry


def reserve_own(*, user: User) -> ReserveCandidate | None:
    """Return the reserve entry of the enterprise user's own entity, if it is in the reserve."""
    entity = user_entity(user=user)
    if entity is None:
        return None
    return ReserveCandidate.objects.filter(entity=entity).select_related("entity").first()


def reserve_interests(*, user: User, candidate: ReserveCandidate) -> QuerySet[InvestorInterest]:
    """Return the interests in an entry the user may see: all of them for the enterprise and the
    operator, an investor's own otherwise."""
    qs = candidate.interests.select_related("investor", "created_by", "responded_by")
    side = reserve_side(user)
    if side == "investor":
        qs = qs.filter(investor_id=user.organisation_id)
    elif side == "enterprise":
        if user_entity(user=user) != candidate.entity:
            qs = qs.none()
    elif side != "operator":
        qs = qs.none()
    return qs.order_by("-created_at", "-id")


def investor_interests(*, user: User) -> QuerySet[InvestorInterest]:
    """Return the interests the investor's organisation has expressed, newest first."""
    if not is_investor(user):
        return InvestorInterest.objects.none()
    return (
        InvestorInterest.objects.filter(investor_id=user.organisation_id)
        .select_related("candidate__entity")
        .order_by("-created_at", "-id")
    )


def reserve_events(*, user: User, candidate: ReserveCandidate) -> QuerySet[ReserveEvent]:
    """Return an entry's timeline for the operator and the enterprise (not for investors)."""
    side = reserve_side(user)
    own = side == "enterprise" and user_entity(user=user) == candidate.entity
    if not (side == "operator" or own):
        return ReserveEvent.objects.none()
    return candidate.events.select_related("actor", "organisation").order_by("created_at", "id")


def financing_cases() -> QuerySet[DirectFinancingCase]:
    """Return the direct-financing cases, latest first (a public showcase)."""
    return DirectFinancingCase.objects.select_related("entity", "investor").order_by(
        "-occurred_on", "-id"
    )


def investor_organisations() -> QuerySet[Organisation]:
    """Return the active investor organisations (for recording cases)."""
    return Organisation.objects.filter(kind=OrgKind.INVESTOR, is_active=True).order_by("name")


def interest_pending_count(*, candidate: ReserveCandidate) -> int:
    """Return how many interests in the entry wait for the enterprise's answer."""
    return candidate.interests.filter(status=InterestStatus.PENDING).count()
