"""Eligibility of a support measure as data: a small, safe form, checked and read back in Chinese.

A measure's ``conditions`` is a list of conditions that must all hold::

    [
        {"field": "entity_type", "op": "in", "value": ["enterprise"]},
        {"field": "years_in_business", "op": ">=", "value": 2},
        {"field": "tax_grade", "op": ">=", "value": "B"},
        {"field": "dishonest", "op": "is", "value": False},
        {"field": "tags", "op": "has_any", "value": ["zjtx"]},
    ]

Nothing in it is code: ``field`` names one of ``FIELDS``, ``op`` one of the operators its kind
allows, ``value`` a literal of the kind's type. ``validate`` returns every problem at once in
Chinese, naming the condition and the rule; ``describe`` renders a condition as a plain Chinese
phrase and ``sentence`` the whole list; ``requirement`` says what an entity still needs
("纳税信用等级需达到B级"). Evaluation (vectorised over all entities, and one entity at a time)
lives in ``policies.evaluate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as N_

from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.enterprises.choices import EntityType
from xinrong.reference import divisions, industries
from xinrong.reference.choices import SizeClass

# kinds of field
CHOICE = "choice"  # one of a fixed list: ops in / not_in
CODE = "code"  # industry or division codes, matched by prefix: ops in / not_in
NUMBER = "number"  # ops >= / <= / between
GRADE = "grade"  # ordered letters, best first: op >= ("at least")
FLAG = "flag"  # yes/no: op is
TAGS = "tags"  # entity tags: ops has_any / has_all / has_none

OPS: dict[str, tuple[str, ...]] = {
    CHOICE: ("in", "not_in"),
    CODE: ("in", "not_in"),
    NUMBER: (">=", "<=", "between"),
    GRADE: (">=",),
    FLAG: ("is",),
    TAGS: ("has_any", "has_all", "has_none"),
}
OP_LABELS: dict[str, Promise] = {
    "in": N_("属于"),
    "not_in": N_("不属于"),
    ">=": N_("不低于"),
    "<=": N_("不超过"),
    "between": N_("介于"),
    "is": N_("是/否"),
    "has_any": N_("具有其中任一"),
    "has_all": N_("同时具有"),
    "has_none": N_("不具有"),
}

CREDIT_GRADES: tuple[str, ...] = tuple(g for g, _floor in DEFAULT_BANDS)  # best first
TAX_GRADES: tuple[str, ...] = ("A", "B", "M", "C", "D")  # best first (M: new taxpayers)
MAX_CONDITIONS = 20
MAX_VALUES = 200


@dataclass(frozen=True)
class ConditionField:
    """A field a condition may test.

    ``column`` names the entity column ``policies.evaluate`` builds for it (a credit feature
    name where there is one); ``unit`` follows numbers in sentences; ``choices`` lists the
    allowed values of a choice or grade field, best first for grades.
    """

    name: str
    label: Promise
    kind: str
    column: str
    unit: Promise | str = ""
    choices: tuple[tuple[str, Promise | str], ...] = ()
    # the Chinese phrase of a flag when true and when false
    yes: Promise | str = ""
    no: Promise | str = ""
    integer: bool = False

    @property
    def ops(self) -> tuple[str, ...]:
        return OPS[self.kind]

    def choice_label(self, value: str) -> str:
        for v, label in self.choices:
            if v == value:
                return str(label)
        return value


def _grades(letters: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((g, g) for g in letters)


FIELDS_LIST: tuple[ConditionField, ...] = (
    ConditionField(
        "entity_type",
        N_("主体类型"),
        CHOICE,
        "entity_type",
        choices=tuple((v, label) for v, label in EntityType.choices),
    ),
    ConditionField(
        "size_class",
        N_("企业规模"),
        CHOICE,
        "size_class",
        choices=tuple((v, label) for v, label in SizeClass.choices),
    ),
    ConditionField("industry", N_("所属行业"), CODE, "industry_code"),
    ConditionField("region", N_("所在地区"), CODE, "division_code"),
    ConditionField("years_in_business", N_("经营年限"), NUMBER, "years_in_business", unit=N_("年")),
    ConditionField("employees", N_("从业人数"), NUMBER, "employees", unit=N_("人"), integer=True),
    ConditionField(
        "insured_headcount",
        N_("参保人数"),
        NUMBER,
        "insured_headcount",
        unit=N_("人"),
        integer=True,
    ),
    ConditionField(
        "registered_capital", N_("注册资本"), NUMBER, "registered_capital", unit=N_("万元")
    ),
    ConditionField("tax_paid_12m", N_("近12个月纳税额"), NUMBER, "tax_paid_12m", unit=N_("万元")),
    ConditionField("ip_count", N_("专利与商标数"), NUMBER, "ip_count", unit=N_("件"), integer=True),
    ConditionField(
        "platform_loans",
        N_("平台累计贷款笔数"),
        NUMBER,
        "platform_loans",
        unit=N_("笔"),
        integer=True,
    ),
    ConditionField(
        "tax_grade", N_("纳税信用等级"), GRADE, "tax_grade", choices=_grades(TAX_GRADES)
    ),
    ConditionField(
        "credit_grade",
        N_("平台信用等级"),
        GRADE,
        "credit_grade",
        choices=_grades(CREDIT_GRADES),
    ),
    ConditionField(
        "dishonest",
        N_("失信被执行人"),
        FLAG,
        "dishonest",
        yes=N_("被列为失信被执行人"),
        no=N_("未被列为失信被执行人"),
    ),
    ConditionField(
        "abnormal_listed",
        N_("经营异常名录"),
        FLAG,
        "abnormal_listed",
        yes=N_("列入经营异常名录"),
        no=N_("未列入经营异常名录"),
    ),
    ConditionField(
        "serious_penalty",
        N_("严重行政处罚"),
        FLAG,
        "penalties_serious",
        yes=N_("有严重行政处罚记录"),
        no=N_("无严重行政处罚记录"),
    ),
    ConditionField(
        "has_loan",
        N_("平台贷款"),
        FLAG,
        "has_loan",
        yes=N_("有在贷或曾获平台贷款"),
        no=N_("从未获得平台贷款"),
    ),
    ConditionField(
        "first_loan",
        N_("首贷户"),
        FLAG,
        "first_loan",
        yes=N_("为首贷户（平台首笔贷款在近12个月内）"),
        no=N_("不是首贷户"),
    ),
    ConditionField("tags", N_("企业标签"), TAGS, "tags"),
)
FIELDS: dict[str, ConditionField] = {f.name: f for f in FIELDS_LIST}


@dataclass(frozen=True)
class ConditionError:
    """One problem of a condition list: which condition (0-based), which part, and why."""

    index: int
    part: str  # "field", "op" or "value"
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "part": self.part, "message": self.message}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _value_problem(f: ConditionField, op: str, value: Any, tag_codes: set[str] | None) -> str:
    """Return what is wrong with ``value`` for ``f`` and ``op`` ("" when nothing)."""
    label = str(f.label)
    if f.kind == FLAG:
        return "" if isinstance(value, bool) else _("%(f)s只能选“是”或“否”") % {"f": label}
    if f.kind == GRADE:
        allowed = [v for v, _l in f.choices]
        if value not in allowed:
            return _("%(f)s只能是：%(v)s") % {"f": label, "v": "、".join(allowed)}
        return ""
    if f.kind == NUMBER:
        if op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                return _("%(f)s的“介于”需要填写下限和上限两个数") % {"f": label}
            lo, hi = _number(value[0]), _number(value[1])
            if lo is None or hi is None:
                return _("%(f)s的下限和上限必须是数字") % {"f": label}
            if lo < 0 or hi < 0:
                return _("%(f)s不能为负数") % {"f": label}
            if lo > hi:
                return _("%(f)s的下限不能大于上限") % {"f": label}
            if f.integer and (lo != int(lo) or hi != int(hi)):
                return _("%(f)s必须是整数") % {"f": label}
            return ""
        number = _number(value)
        if number is None:
            return _("%(f)s必须是数字") % {"f": label}
        if number < 0:
            return _("%(f)s不能为负数") % {"f": label}
        if f.integer and number != int(number):
            return _("%(f)s必须是整数") % {"f": label}
        return ""
    # list-valued kinds
    if not isinstance(value, list | tuple) or not value:
        return _("%(f)s至少选择一项") % {"f": label}
    if len(value) > MAX_VALUES:
        return _("%(f)s最多选择%(n)d项") % {"f": label, "n": MAX_VALUES}
    if not all(isinstance(v, str) for v in value):
        return _("%(f)s的取值必须是文字代码") % {"f": label}
    if f.kind == CHOICE:
        allowed_set = {v for v, _l in f.choices}
        bad = [v for v in value if v not in allowed_set]
        if bad:
            return _("%(f)s没有这些选项：%(v)s") % {"f": label, "v": "、".join(bad)}
        return ""
    if f.kind == CODE:
        if f.name == "industry":
            bad = [v for v in value if not industries.is_valid(v)]
            if bad:
                return _("所属行业代码不符合《国民经济行业分类》（GB/T 4754-2017）：%(v)s") % {
                    "v": "、".join(bad)
                }
        else:
            bad = [v for v in value if divisions.get(v) is None]
            if bad:
                return _("所在地区代码不是有效的行政区划代码（GB/T 2260）：%(v)s") % {
                    "v": "、".join(bad)
                }
        return ""
    if f.kind == TAGS and tag_codes is not None:
        bad = [v for v in value if v not in tag_codes]
        if bad:
            return _("没有这些企业标签：%(v)s") % {"v": "、".join(bad)}
    return ""


def validate(conditions: Any, *, tag_codes: set[str] | None = None) -> list[ConditionError]:
    """Return every problem of a condition list (empty when it is valid).

    ``tag_codes`` (the codes of the entity tags that exist) checks tag values when given.
    """
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        return [ConditionError(-1, "field", _("申报条件必须是条件列表"))]
    if len(conditions) > MAX_CONDITIONS:
        return [ConditionError(-1, "field", _("申报条件最多%(n)d条") % {"n": MAX_CONDITIONS})]
    problems: list[ConditionError] = []
    seen: dict[tuple[str, str], int] = {}
    for i, cond in enumerate(conditions):
        if not isinstance(cond, Mapping):
            problems.append(ConditionError(i, "field", _("第%(n)d条条件格式不正确") % {"n": i + 1}))
            continue
        unknown = set(cond) - {"field", "op", "value"}
        if unknown:
            problems.append(
                ConditionError(
                    i,
                    "field",
                    _("第%(n)d条条件含有不认识的项：%(k)s")
                    % {"n": i + 1, "k": "、".join(sorted(map(str, unknown)))},
                )
            )
        f = FIELDS.get(str(cond.get("field", "")))
        if f is None:
            problems.append(
                ConditionError(
                    i,
                    "field",
                    _("第%(n)d条条件的条件项“%(k)s”不存在")
                    % {"n": i + 1, "k": cond.get("field", "")},
                )
            )
            continue
        op = cond.get("op")
        if op not in f.ops:
            problems.append(
                ConditionError(
                    i,
                    "op",
                    _("第%(n)d条条件（%(f)s）只能用：%(ops)s")
                    % {
                        "n": i + 1,
                        "f": f.label,
                        "ops": "、".join(str(OP_LABELS[o]) for o in f.ops),
                    },
                )
            )
            continue
        key = (f.name, str(op))
        if key in seen:
            problems.append(
                ConditionError(
                    i,
                    "field",
                    _("第%(n)d条条件与第%(m)d条重复（%(f)s）")
                    % {"n": i + 1, "m": seen[key] + 1, "f": f.label},
                )
            )
        seen.setdefault(key, i)
        problem = _value_problem(f, str(op), cond.get("value"), tag_codes)
        if problem:
            problems.append(
                ConditionError(i, "value", _("第%(n)d条条件：%(p)s") % {"n": i + 1, "p": problem})
            )
    return problems


def _figure(value: Any, f: ConditionField) -> str:
    number = float(value)
    text = str(int(number)) if number == int(number) else f"{number:g}"
    # a number and its unit: "2年" in Chinese, "2 years" in English
    return _("%(n)s%(unit)s") % {"n": text, "unit": f.unit} if f.unit else text


def _names(f: ConditionField, values: Sequence[str], tag_names: Mapping[str, str]) -> str:
    if f.kind == CHOICE:
        return "、".join(f.choice_label(v) for v in values)
    if f.kind == TAGS:
        return "、".join(f"“{tag_names.get(v, v)}”" for v in values)
    if f.name == "industry":
        parts = []
        for v in values:
            ind = industries.get(v)
            parts.append(f"{ind.name}（{v}）" if ind else v)
        return "、".join(parts)
    parts = []
    for v in values:
        name = divisions.full_name(v) if divisions.get(v) else ""
        parts.append(name or v)
    return "、".join(parts)


def describe(cond: Mapping[str, Any], tag_names: Mapping[str, str] | None = None) -> str:
    """Return one condition as a plain Chinese phrase ("经营年限不少于2年")."""
    f = FIELDS[cond["field"]]
    op, value = cond["op"], cond["value"]
    label = str(f.label)
    tags = tag_names or {}
    if f.kind == FLAG:
        return str(f.yes if value else f.no)
    if f.kind == GRADE:
        return _("%(f)s不低于%(g)s级") % {"f": label, "g": value}
    if f.kind == NUMBER:
        if op == ">=":
            return _("%(f)s不少于%(x)s") % {"f": label, "x": _figure(value, f)}
        if op == "<=":
            return _("%(f)s不超过%(x)s") % {"f": label, "x": _figure(value, f)}
        return _("%(f)s在%(lo)s至%(hi)s之间") % {
            "f": label,
            "lo": _figure(value[0], f),
            "hi": _figure(value[1], f),
        }
    names = _names(f, value, tags)
    if f.kind == TAGS:
        if op == "has_any":
            return (
                _("具有%(t)s标签") % {"t": names}
                if len(value) == 1
                else _("具有%(t)s标签之一") % {"t": names}
            )
        if op == "has_all":
            return _("同时具有%(t)s标签") % {"t": names}
        return _("不具有%(t)s标签") % {"t": names}
    if op == "in":
        return _("%(f)s为%(v)s") % {"f": label, "v": names}
    return _("%(f)s不是%(v)s") % {"f": label, "v": names}


def sentence(
    conditions: Sequence[Mapping[str, Any]], tag_names: Mapping[str, str] | None = None
) -> str:
    """Return a whole condition list as one Chinese sentence ("" means open to all)."""
    if not conditions:
        return _("不限条件，所有市场主体均可享受。")
    # the separator and full stop follow the language ("；" and "。" in Chinese)
    return _("；").join(describe(c, tag_names) for c in conditions) + _("。")


def requirement(cond: Mapping[str, Any], tag_names: Mapping[str, str] | None = None) -> str:
    """Return what an entity that fails ``cond`` still needs ("纳税信用等级需达到B级")."""
    f = FIELDS[cond["field"]]
    op, value = cond["op"], cond["value"]
    label = str(f.label)
    if f.kind == GRADE:
        return _("%(f)s需达到%(g)s级") % {"f": label, "g": value}
    if f.kind == FLAG:
        return _("需%(x)s") % {"x": f.yes if value else f.no}
    if f.kind == NUMBER:
        if op == ">=":
            return _("%(f)s需达到%(x)s") % {"f": label, "x": _figure(value, f)}
        if op == "<=":
            return _("%(f)s需不超过%(x)s") % {"f": label, "x": _figure(value, f)}
    return _("需满足：%(c)s") % {"c": describe(cond, tag_names)}
