"""Whether a market entity qualifies for a product version, and every reason it does not.

``evaluate`` is pure (no database); ``entity_facts`` loads what it needs for many entities in a
few queries, reusing credit's feature logic for the tax grade.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.credit.features import tax_grades
from xinrong.credit.models import CreditProfile
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.reference import divisions, industries

GRADE_RANK = {g: i for i, (g, _floor) in enumerate(DEFAULT_BANDS)}  # 0 is best (AAA)


class Terms(Protocol):
    """The eligibility-relevant terms of a product version."""

    entity_types: list[str]
    industries: list[str]
    regions: list[str]
    min_years_in_business: Decimal
    min_credit_grade: str
    tax_grades: list[str]


@dataclass(frozen=True)
class EntityFacts:
    """What eligibility looks at for one entity."""

    entity_type: str
    industry_code: str
    division_code: str
    years_in_business: float | None
    credit_grade: str | None
    tax_grade: str | None


@dataclass(frozen=True)
class Reason:
    """One unmet condition: a stable code and a Chinese explanation."""

    code: str
    message: str


@dataclass
class Verdict:
    """The outcome for one entity and one product version."""

    reasons: list[Reason] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _industry_matches(code: str, wanted: list[str]) -> bool:
    if not wanted:
        return True
    try:
        normal = industries.normalize(code)
    except ValueError:
        return False
    section = normal[:1]
    return any(w == section if len(w) == 1 else normal.startswith(w) for w in wanted)


def _region_matches(code: str, wanted: list[str]) -> bool:
    if not wanted:
        return True
    for region in wanted:
        try:
            if code.startswith(divisions.descendants_prefix(region)):
                return True
        except ValueError:
            continue
    return False


def _names(codes: Iterable[str], lookup: dict[str, str]) -> str:
    return "、".join(lookup.get(c, c) for c in codes)


def evaluate(terms: Terms, facts: EntityFacts) -> Verdict:
    """Return the verdict with every unmet condition (empty reasons = eligible)."""
    verdict = Verdict()
    add = verdict.reasons.append
    if terms.entity_types and facts.entity_type not in terms.entity_types:
        labels = dict(EntityType.choices)
        add(
            Reason(
                "entity_type",
                _("主体类型不符：本产品面向%(want)s，贵单位为%(have)s")
                % {
                    "want": _names(terms.entity_types, {k: str(v) for k, v in labels.items()}),
                    "have": str(labels.get(facts.entity_type, facts.entity_type)),
                },
            )
        )
    if not _industry_matches(facts.industry_code, terms.industries):
        add(
            Reason(
                "industry",
                _("所属行业不符：本产品限%(want)s行业，贵单位行业为%(have)s")
                % {"want": "、".join(terms.industries), "have": facts.industry_code or _("未知")},
            )
        )
    if not _region_matches(facts.division_code, terms.regions):
        add(
            Reason(
                "region",
                _("所在地区不符：本产品限%(want)s，贵单位位于%(have)s")
                % {
                    "want": "、".join(divisions.full_name(r) or r for r in terms.regions),
                    "have": divisions.full_name(facts.division_code) or facts.division_code,
                },
            )
        )
    need_years = float(terms.min_years_in_business or 0)
    if need_years > 0:
        years = facts.years_in_business
        if years is None:
            add(
                Reason(
                    "years_in_business",
                    _("经营年限未知（无成立日期），本产品要求至少 %(n)s 年") % {"n": need_years},
                )
            )
        elif years < need_years:
            add(
                Reason(
                    "years_in_business",
                    _("经营年限不足：本产品要求至少 %(n)s 年，贵单位成立 %(have).1f 年")
                    % {"n": need_years, "have": years},
                )
            )
    if terms.min_credit_grade:
        grade = facts.credit_grade
        if not grade:
            add(
                Reason(
                    "credit_grade_missing",
                    _("暂无信用评分：本产品要求信用等级 %(g)s 及以上")
                    % {"g": terms.min_credit_grade},
                )
            )
        elif GRADE_RANK.get(grade, len(GRADE_RANK)) > GRADE_RANK[terms.min_credit_grade]:
            add(
                Reason(
                    "credit_grade",
                    _("信用等级不足：本产品要求 %(want)s 及以上，贵单位为 %(have)s")
                    % {"want": terms.min_credit_grade, "have": grade},
                )
            )
    if terms.tax_grades:
        tax = facts.tax_grade
        if not tax:
            add(
                Reason(
                    "tax_grade_missing",
                    _("纳税信用等级未知：本产品要求纳税信用等级为 %(want)s")
                    % {"want": "/".join(terms.tax_grades)},
                )
            )
        elif tax not in terms.tax_grades:
            add(
                Reason(
                    "tax_grade",
                    _("纳税信用等级不符：本产品要求 %(want)s，贵单位为 %(have)s")
                    % {"want": "/".join(terms.tax_grades), "have": tax},
                )
            )
    return verdict


def entity_facts(
    *, entity_ids: Iterable[int], as_of: dt.date | None = None
) -> dict[int, EntityFacts]:
    """Load eligibility facts of many entities: registry, latest credit grade, latest tax grade."""
    ids = sorted(set(entity_ids))
    if not ids:
        return {}
    day = as_of or timezone.localdate()
    rows = MarketEntity.objects.filter(pk__in=ids).values_list(
        "pk", "entity_type", "industry_code", "division_code", "established_on"
    )
    grades = dict(
        CreditProfile.objects.filter(entity_id__in=ids, is_latest=True).values_list(
            "entity_id", "grade"
        )
    )
    taxes = tax_grades(entity_ids=ids, as_of=day)
    out: dict[int, EntityFacts] = {}
    for pk, etype, industry, division, established in rows:
        out[pk] = EntityFacts(
            entity_type=etype,
            industry_code=industry,
            division_code=division,
            years_in_business=(day - established).days / 365.25 if established else None,
            credit_grade=grades.get(pk) or None,
            tax_grade=taxes.get(pk),
        )
    return out


# ---------------------------------------------------------------- per-condition checks (fast)
# Each returns whether one condition of ``evaluate`` holds, without building messages, so that
# matching can check each distinct value of a condition once and combine the answers in NumPy.
# They mirror ``evaluate`` exactly (a test compares them).


def entity_type_ok(entity_types: list[str], facts: EntityFacts) -> bool:
    """Return whether the entity type condition holds."""
    return not entity_types or facts.entity_type in entity_types


def industry_ok(wanted: list[str], facts: EntityFacts) -> bool:
    """Return whether the industry condition holds."""
    return _industry_matches(facts.industry_code, wanted)


def region_ok(wanted: list[str], facts: EntityFacts) -> bool:
    """Return whether the region condition holds."""
    return _region_matches(facts.division_code, wanted)


def years_ok(min_years: Decimal, facts: EntityFacts) -> bool:
    """Return whether the years-in-business condition holds."""
    need = float(min_years or 0)
    if need <= 0:
        return True
    return facts.years_in_business is not None and facts.years_in_business >= need


def grade_ok(min_grade: str, facts: EntityFacts) -> bool:
    """Return whether the credit grade condition holds."""
    if not min_grade:
        return True
    grade = facts.credit_grade
    return bool(grade) and GRADE_RANK.get(grade or "", len(GRADE_RANK)) <= GRADE_RANK[min_grade]


def tax_ok(tax_grades: list[str], facts: EntityFacts) -> bool:
    """Return whether the tax grade condition holds."""
    return not tax_grades or (facts.tax_grade is not None and facts.tax_grade in tax_grades)
