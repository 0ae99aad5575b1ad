"""Reads of matching: an enterprise's policies, and the policy calculator.

The calculator judges the measures in force over one row: the enterprise's own data when a
logged-in enterprise asks (``calculator_for_entity``), or the answers of anyone (type, industry,
region, size, and optionally years in business and headcount; ``calculator_for_answers``). For
answers, only conditions on what was asked decide; conditions on what the platform cannot know
from a few answers (tax grade, credit grade, …) are listed as "另需满足" for the asker to check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.policies.choices import MeasureKind
from xinrong.policies.conditions import FIELDS, describe
from xinrong.policies.evaluate import (
    columns,
    entity_columns,
    estimate_amount,
    evaluate_matrix,
    evaluate_one,
)
from xinrong.policies.models import CalculatorQuery, Measure, PolicyMatch, PushMute
from xinrong.policies.services.matching import NEAR_MISS, measures_in_force
from xinrong.reference import divisions, industries
from xinrong.reference.choices import SizeClass

# the calculator's questions: answer name → the entity column it fills
ANSWER_COLUMNS: dict[str, str] = {
    "entity_type": "entity_type",
    "industry": "industry_code",
    "region": "division_code",
    "size_class": "size_class",
    "years_in_business": "years_in_business",
    "employees": "employees",
}
MAX_YEARS = 200
MAX_EMPLOYEES = 10_000_000


def user_entity(user: Any) -> MarketEntity | None:
    """Return the market entity of an enterprise user (None for anyone else)."""
    org_id = getattr(user, "organisation_id", None)
    if not getattr(user, "is_authenticated", False) or org_id is None:
        return None
    return MarketEntity.objects.filter(organisation_id=org_id).first()


@dataclass
class Item:
    """A measure in a result: eligible with an estimate, or missing some conditions."""

    measure: Measure
    estimated_amount: Decimal | None = None
    missing: list[dict[str, str]] = field(default_factory=list)
    unasked: list[str] = field(default_factory=list)  # conditions the answers cannot settle


@dataclass
class Result:
    eligible: list[Item]
    near: list[Item]


def _sorted(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (-(i.estimated_amount or Decimal(0)), i.measure.pk))


def my_policies(*, entity: MarketEntity) -> Result:
    """Return the stored matches of an entity: eligible measures and near misses, in force."""
    rows = (
        PolicyMatch.objects.filter(
            entity=entity,
            measure__in=[m.pk for m in measures_in_force()],
        )
        .select_related("measure", "measure__document", "measure__document__department")
        .order_by("-estimated_amount", "measure_id")
    )
    eligible, near = [], []
    for r in rows:
        if r.eligible:
            eligible.append(Item(r.measure, r.estimated_amount))
        elif len(r.missing) <= NEAR_MISS:
            near.append(Item(r.measure, None, list(r.missing)))
    return Result(_sorted(eligible), near)


def push_settings(*, entity: MarketEntity) -> list[dict[str, Any]]:
    """Return each measure kind with whether the entity receives its pushes."""
    muted = set(PushMute.objects.filter(entity=entity).values_list("kind", flat=True))
    return [
        {"kind": value, "label": label, "muted": value in muted}
        for value, label in MeasureKind.choices
    ]


# --- the calculator -------------------------------------------------------------------------


def _choice(data: Mapping[str, Any], name: str, allowed: set[str], label: str) -> tuple[str, str]:
    value = str(data.get(name) or "").strip()
    if not value:
        return "", _("请选择%(f)s") % {"f": label}
    if value not in allowed:
        return "", _("%(f)s的选项不存在：%(v)s") % {"f": label, "v": value}
    return value, ""


def _optional_number(
    data: Mapping[str, Any], name: str, label: str, top: int, integer: bool
) -> tuple[float | None, str]:
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ""
    try:
        number = float(str(raw).strip())
    except ValueError:
        return None, _("%(f)s必须是数字") % {"f": label}
    if not np.isfinite(number) or number < 0 or number > top:
        return None, _("%(f)s须在0至%(n)d之间") % {"f": label, "n": top}
    if integer and number != int(number):
        return None, _("%(f)s必须是整数") % {"f": label}
    return number, ""


def calculator_answers_parse(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the calculator's answers; raise ApplicationError (422) naming every bad field.

    Returns the answers: entity_type, industry (normalised code), region (division code),
    size_class, and years_in_business / employees (None when not given).
    """
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {}
    answers["entity_type"], errors["entity_type"] = _choice(
        data, "entity_type", set(EntityType.values), _("主体类型")
    )
    answers["size_class"], errors["size_class"] = _choice(
        data, "size_class", set(SizeClass.values), _("企业规模")
    )
    industry = str(data.get("industry") or "").strip()
    if not industry:
        errors["industry"] = _("请选择所属行业")
    elif not industries.is_valid(industry):
        errors["industry"] = _(
            "所属行业代码不符合《国民经济行业分类》（GB/T 4754-2017）：%(v)s"
        ) % {"v": industry}
    else:
        answers["industry"] = industries.normalize(industry)
    region = str(data.get("region") or "").strip()
    if not region:
        errors["region"] = _("请选择所在地区")
    elif divisions.get(region) is None:
        errors["region"] = _("所在地区代码不是有效的行政区划代码（GB/T 2260）：%(v)s") % {
            "v": region
        }
    else:
        answers["region"] = region
    answers["years_in_business"], errors["years_in_business"] = _optional_number(
        data, "years_in_business", _("经营年限"), MAX_YEARS, False
    )
    employees, errors["employees"] = _optional_number(
        data, "employees", _("从业人数"), MAX_EMPLOYEES, True
    )
    answers["employees"] = None if employees is None else int(employees)
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ApplicationError(
            "invalid_answers",
            "；".join(errors.values()),
            {"fields": errors},
            status=422,
        )
    return answers


def _row_of_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {c: np.nan for c in columns()}
    row.update(entity_type="", size_class="", industry_code="", division_code="", tags=())
    row.update(tax_grade=None, credit_grade=None)
    for name, column in ANSWER_COLUMNS.items():
        value = answers.get(name)
        if value is not None and value != "":
            row[column] = float(value) if column in ("years_in_business", "employees") else value
    return row


def _judge(
    measures: Sequence[Measure],
    row: Mapping[str, Any],
    decided: set[str] | None,
    tag_names: Mapping[str, str],
) -> Result:
    """Judge ``measures`` over one row; only conditions on ``decided`` columns count when given."""
    lists = [
        [c for c in (m.conditions or []) if decided is None or FIELDS[c["field"]].column in decided]
        for m in measures
    ]
    frame = pd.DataFrame([dict(row)])
    eligible, unmet = evaluate_matrix(lists, frame)
    out = Result([], [])
    for i, measure in enumerate(measures):
        if unmet[i, 0] > NEAR_MISS:
            continue
        unasked = [
            describe(c, tag_names)
            for c in (measure.conditions or [])
            if decided is not None and FIELDS[c["field"]].column not in decided
        ]
        if eligible[i, 0]:
            amount = estimate_amount(measure, row)
            out.eligible.append(Item(measure, amount, [], unasked))
        else:
            missing = evaluate_one(lists[i], row, tag_names).missing
            out.near.append(Item(measure, None, missing, unasked))
    out.eligible = _sorted(out.eligible)
    return out


def _tag_names() -> dict[str, str]:
    from xinrong.enterprises.models import Tag

    return dict(Tag.objects.values_list("code", "name"))


def _log(entity: MarketEntity | None, answers: Mapping[str, Any], result: Result) -> None:
    CalculatorQuery.objects.create(
        entity=entity,
        answers={k: v for k, v in answers.items() if v is not None},
        eligible=len(result.eligible),
        near=len(result.near),
    )


def calculator_for_answers(*, answers: Mapping[str, Any]) -> Result:
    """Return what would apply to an enterprise described by the calculator's answers (logged)."""
    row = _row_of_answers(answers)
    decided = {ANSWER_COLUMNS[k] for k, v in answers.items() if v is not None and v != ""}
    result = _judge(measures_in_force(), row, decided, _tag_names())
    _log(None, answers, result)
    return result


def calculator_for_entity(*, entity: MarketEntity) -> Result:
    """Return what applies to an enterprise by its own data on the platform (logged)."""
    cols = entity_columns([entity.pk])
    row = cols.iloc[0].to_dict() if len(cols) else _row_of_answers({})
    result = _judge(measures_in_force(), row, None, _tag_names())
    _log(entity, {"own_data": True}, result)
    return result


def answer_labels(answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the answers as (question, answer) in words, for the result page."""
    out = []
    if answers.get("entity_type"):
        out.append((_("主体类型"), str(EntityType(answers["entity_type"]).label)))
    if answers.get("industry"):
        ind = industries.get(answers["industry"])
        out.append((_("所属行业"), ind.name if ind else answers["industry"]))
    if answers.get("region"):
        out.append((_("所在地区"), divisions.full_name(answers["region"])))
    if answers.get("size_class"):
        out.append((_("企业规模"), str(SizeClass(answers["size_class"]).label)))
    if answers.get("years_in_business") is not None:
        out.append((_("经营年限"), _("%(n)s年") % {"n": f"{answers['years_in_business']:g}"}))
    if answers.get("employees") is not None:
        out.append((_("从业人数"), _("%(n)d人") % {"n": answers["employees"]}))
    return out


def entities_matched(*, measure: Measure) -> QuerySet[PolicyMatch]:
    """Return a measure's eligible matches (for pages of other subdomains)."""
    return PolicyMatch.objects.filter(measure=measure, eligible=True)
