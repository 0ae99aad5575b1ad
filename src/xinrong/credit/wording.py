"""Scoring features in plain Chinese: values with their units, bins as sentences.

One place renders a feature's value ("3.3万元", "A", "是", "-25%") and a scorecard bin
("不低于3.3万元", "1 至 2 件", "为 B、M", "缺失"), for the portrait, the improvement guidance, the
model page and the credit report alike. Feature values are stored as the scorecard reads them:
money in 万元, shares and changes as fractions, the tax credit grade as 1–5, flags as 0/1.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from xinrong.common.templatetags.money import amount_text
from xinrong.credit.features import FEATURES_BY_NAME, TAX_GRADE_VALUE

if TYPE_CHECKING:
    from xinrong.credit.scorecard import BinnedFeature

MONEY, CHANGE, SHARE, GRADE, FLAG, COUNT, MEASURE = (
    "money",
    "change",
    "share",
    "grade",
    "flag",
    "count",
    "measure",
)

# How each feature's value reads (features not listed are measures in their unit).
VALUE_KINDS: dict[str, str] = {
    "registered_capital": MONEY,
    "utility_billed_12m": MONEY,
    "tax_paid_12m": MONEY,
    "case_amount_36m": MONEY,
    "insured_trend": CHANGE,
    "tax_trend": CHANGE,
    "platform_settled_share": SHARE,
    "tax_grade": GRADE,
    "abnormal_listed": FLAG,
    "dishonest": FLAG,
    "employees": COUNT,
    "insured_headcount": COUNT,
    "ip_count": COUNT,
    "procurement_36m": COUNT,
    "honours": COUNT,
    "platform_loans": COUNT,
    "tax_arrears_months": COUNT,
    "utility_arrears_months": COUNT,
    "social_arrears_months": COUNT,
    "loan_overdue_days_24m": COUNT,
    "loan_defaults_5y": COUNT,
    "penalties_general": COUNT,
    "penalties_serious": COUNT,
    "cases_defendant_36m": COUNT,
    "related_negative": COUNT,
}

# Flags read as a phrase: (when yes, when no).
FLAG_PHRASES: dict[str, tuple[str, str]] = {
    "abnormal_listed": (N_("已列入经营异常名录"), N_("未列入经营异常名录")),
    "dishonest": (N_("被列为失信被执行人"), N_("未被列为失信被执行人")),
}

_GRADE_LETTER = {v: k for k, v in TAX_GRADE_VALUE.items()}
# grades an enterprise can reach by its conduct: M is for new entrants, given, not earned
ATTAINABLE_GRADES = ("D", "C", "B", "A")

# Negative facts read with the entity's own figure: "近24个月有9个月欠缴社保".
FACT_PHRASES: dict[str, str] = {
    "tax_arrears_months": N_("近24个月有%(n)s个月欠税"),
    "utility_arrears_months": N_("水电气欠费%(n)s个月"),
    "social_arrears_months": N_("近24个月有%(n)s个月欠缴社保"),
    "loan_overdue_days_24m": N_("近24个月平台贷款最长逾期%(n)s天"),
    "loan_defaults_5y": N_("近5年有%(n)s笔平台贷款违约"),
    "penalties_general": N_("受到%(n)s次一般行政处罚"),
    "penalties_serious": N_("受到%(n)s次严重行政处罚"),
    "cases_defendant_36m": N_("近3年有%(n)s件被诉或被执行案件"),
    "case_amount_36m": N_("近3年涉案金额%(n)s"),
    "related_negative": N_("%(n)s家关联主体有负面信息"),
}

# What clearing a negative fact takes: the whole step, to "no such fact".
CLEAR_GOALS: dict[str, str] = {
    "tax_arrears_months": N_("清缴全部欠税"),
    "utility_arrears_months": N_("结清全部水电气欠费"),
    "social_arrears_months": N_("补缴全部社保欠费"),
    "loan_overdue_days_24m": N_("还清逾期贷款，此后按期还款"),
    "abnormal_listed": N_("移出经营异常名录"),
    "dishonest": N_("履行判决并移出失信名单"),
}


def _trim(number: float, places: int) -> str:
    text = f"{number:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_text(wan: float) -> str:
    """Return a model value held in 万元 as a person writes it, through the money helpers:
    "328 元", "3.28 万元", "1,250 万元" ("CNY 328", "CNY 32,800", "CNY 12,500,000")."""
    yuan = wan * 10_000
    if abs(yuan) < 10_000:
        return amount_text(Decimal(round(yuan)), "元", 0)
    places = 0 if abs(wan) >= 100 else (1 if abs(wan) >= 10 else 2)
    return amount_text(Decimal(str(round(wan, places))), "万元", None)


def _percent(fraction: float, *, signed: bool) -> str:
    pct = fraction * 100
    text = _trim(pct, 0 if abs(pct) >= 10 else 1)
    if signed and pct > 0:
        text = "+" + text
    return f"{text}%"


def _unit(name: str) -> str:
    spec = FEATURES_BY_NAME.get(name)
    return _(spec.unit) if spec and spec.unit else ""


def _measure(name: str, value: float) -> str:
    kind = VALUE_KINDS.get(name, MEASURE)
    if kind == MONEY:
        return money_text(value)
    if kind == CHANGE:
        return _percent(value, signed=True)
    if kind == SHARE:
        return _percent(value, signed=False)
    places = 0 if kind == COUNT or float(value).is_integer() else 1
    return f"{_trim(value, places)}{_unit(name)}"


def value_text(name: str, value: float | None) -> str:
    """Return one feature value as it reads on a page: with its unit, grades as letters."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _("无数据")
    kind = VALUE_KINDS.get(name, MEASURE)
    if kind == GRADE:
        return _GRADE_LETTER.get(float(value), _trim(value, 1))
    if kind == FLAG:
        return _("是") if value >= 0.5 else _("否")
    return _measure(name, float(value))


def _edges(f: BinnedFeature, index: int) -> tuple[float, float]:
    edges = [-math.inf, *f.splits, math.inf]
    return edges[index], edges[index + 1]


def bin_range(name: str, f: BinnedFeature, index: int) -> str:
    """Return bin ``index`` of a feature as a phrase: 不低于 X / 低于 Y / 在 X 至 Y 之间 / 缺失."""
    if index >= f.n_regular:
        return _("缺失（无数据）")
    if f.categories is not None:
        return "、".join(f.categories[index])
    lo, hi = _edges(f, index)
    kind = VALUE_KINDS.get(name, MEASURE)
    if kind == GRADE:
        letters = [g for g, v in TAX_GRADE_VALUE.items() if lo <= v < hi]
        return _("为 %(g)s") % {"g": "、".join(letters)} if letters else _("无对应等级")
    if kind == FLAG:
        values = [v for v in (1.0, 0.0) if lo <= v < hi]
        if len(values) == 1:
            return _("是") if values[0] else _("否")
        return _("是或否")
    if kind == COUNT:
        first = 0 if lo == -math.inf else math.ceil(lo)
        last = None if hi == math.inf else math.ceil(hi) - 1
        first = max(first, 0)
        unit = _unit(name)
        if last is None:
            return _("不少于 %(a)s%(u)s") % {"a": first, "u": unit} if first > 0 else _("有数据")
        if last >= first:
            if first == last:
                return _("为 %(a)s%(u)s") % {"a": first, "u": unit}
            if first == 0:
                return _("不超过 %(b)s%(u)s") % {"b": last, "u": unit}
            return _("%(a)s 至 %(b)s%(u)s") % {"a": first, "b": last, "u": unit}
    if lo == -math.inf and hi == math.inf:
        return _("有数据")
    if lo == -math.inf:
        return _("低于 %(y)s") % {"y": _measure(name, hi)}
    if hi == math.inf:
        return _("不低于 %(x)s") % {"x": _measure(name, lo)}
    return _("在 %(x)s 至 %(y)s 之间") % {"x": _measure(name, lo), "y": _measure(name, hi)}


def feature_label(name: str) -> str:
    """Return a feature's Chinese label (the code only for a feature no longer defined)."""
    spec = FEATURES_BY_NAME.get(name)
    return _(spec.label) if spec else name


def bin_sentence(name: str, f: BinnedFeature, index: int) -> str:
    """Return a bin as a sentence: 近12个月纳税额不低于3.28万元; 已列入经营异常名录;
    平台尚无近12个月纳税额的数据 (the missing bin, in words an owner reads)."""
    label = feature_label(name)
    if index >= f.n_regular:
        return _("平台尚无%(label)s的数据") % {"label": label}
    if VALUE_KINDS.get(name) == FLAG and f.categories is None and name in FLAG_PHRASES:
        lo, hi = _edges(f, index)
        values = [v for v in (1.0, 0.0) if lo <= v < hi]
        if len(values) == 1:
            yes, no = FLAG_PHRASES[name]
            return _(yes) if values[0] else _(no)
    phrase = bin_range(name, f, index)
    if not (get_language() or "").startswith("en"):  # Chinese runs the words together
        phrase = phrase.replace(" ", "")
    return f"{label}{phrase}" if not phrase.startswith(("是", "否")) else f"{label}：{phrase}"


def grade_text(value: float) -> str:
    """Return a tax credit grade held as 1–5 as it reads: "B级"."""
    letter = _GRADE_LETTER.get(float(value))
    return _("%(g)s级") % {"g": letter} if letter else _trim(value, 1)


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def state_text(name: str, value: float | None) -> str:
    """Return where an entity stands on a feature, in words: "被列为失信被执行人", "D级",
    "9个月", "无数据"."""
    if _is_missing(value):
        return _("无数据")
    assert value is not None
    kind = VALUE_KINDS.get(name, MEASURE)
    if kind == FLAG and name in FLAG_PHRASES:
        yes, no = FLAG_PHRASES[name]
        return _(yes) if value >= 0.5 else _(no)
    if kind == GRADE:
        return grade_text(value)
    return value_text(name, value)


def reason_sentence(name: str, f: BinnedFeature, index: int, value: float | None) -> str:
    """Return a reason as a sentence in words, with the entity's own figure where it has one:
    被列为失信被执行人; 纳税信用等级为D级; 近24个月有9个月欠缴社保; 近12个月纳税额低于3.28万元
    (a measure reads as its bin, which says where the points change)."""
    if index >= f.n_regular or _is_missing(value):
        return bin_sentence(name, f, f.n_regular)
    assert value is not None
    kind = VALUE_KINDS.get(name, MEASURE)
    if kind == FLAG and name in FLAG_PHRASES:
        return state_text(name, value)
    if kind == GRADE and float(value) in _GRADE_LETTER:
        return _("%(label)s为%(g)s") % {"label": feature_label(name), "g": grade_text(value)}
    if name in FACT_PHRASES and value > 0:
        figure = money_text(value) if kind == MONEY else _trim(value, 0)
        return _(FACT_PHRASES[name]) % {"n": figure}
    return bin_sentence(name, f, index)


def grade_goal(f: BinnedFeature, index: int, above: float) -> str | None:
    """Return the lowest attainable grade above ``above`` in bin ``index`` of the tax-grade
    feature ("B"), None when the bin holds none.

    With no grade on record (``above`` NaN) the goal is a good grade (B or better): a C or D
    is a sanction, never advice to someone who has none."""
    lo, hi = _edges(f, index)
    floor = TAX_GRADE_VALUE["B"] if math.isnan(above) else above
    for letter in ATTAINABLE_GRADES:
        v = TAX_GRADE_VALUE[letter]
        if lo <= v < hi and (v > floor or (math.isnan(above) and v == floor)):
            return letter
    return None


def goal_text(name: str, f: BinnedFeature, index: int, *, grade: str | None = None) -> str:
    """Return a guidance target in words: 履行判决并移出失信名单; 补缴全部社保欠费;
    纳税信用等级达到B级; 近12个月纳税额达到3.28万元."""
    label = feature_label(name)
    if name in CLEAR_GOALS:
        return _(CLEAR_GOALS[name])
    if grade is not None:
        return _("%(label)s达到%(g)s级") % {"label": label, "g": grade}
    if f.categories is None and index < f.n_regular:
        lo, _hi = _edges(f, index)
        if lo != -math.inf:
            kind = VALUE_KINDS.get(name, MEASURE)
            figure = _trim(math.ceil(lo), 0) + _unit(name) if kind == COUNT else _measure(name, lo)
            return _("%(label)s达到%(x)s") % {"label": label, "x": figure}
    return bin_sentence(name, f, index)


# ---------------------------------------------------------------- a model version's figures

METRIC_LABELS: dict[str, str] = {
    "outcomes": N_("训练结果来源"),
    "auc_train": N_("训练集 AUC"),
    "ks_train": N_("训练集 KS"),
    "auc_test": N_("测试集 AUC"),
    "ks_test": N_("测试集 KS"),
    "gini_test": N_("测试集 Gini 系数"),
    "oracle_auc_test": N_("可达上限 AUC（合成数据的真实违约概率）"),
    "oracle_ks_test": N_("可达上限 KS（合成数据的真实违约概率）"),
    "score_vs_true_risk_spearman": N_("评分与真实风险的等级相关系数"),
}
TRAINING_LABELS: dict[str, str] = {
    "data": N_("训练数据"),
    "fallback": N_("改用合成数据的原因"),
    "loans_from": N_("放款期间自"),
    "loans_to": N_("放款期间至"),
    "features_as_of": N_("特征时点"),
    "bads": N_("坏样本数"),
    "seed": N_("随机种子"),
    "as_of": N_("数据截至"),
    "entities": N_("主体数"),
    "rows": N_("样本数"),
    "train_rows": N_("训练集样本数"),
    "test_rows": N_("测试集样本数"),
    "bad_rate": N_("坏样本率"),
    "split": N_("样本划分"),
    "refit": N_("入库评分卡"),
}
_TRAINING_VALUES: dict[str, str] = {
    "month-end before disbursement": N_("放款前一月末"),
    "stratified 70/30": N_("分层抽样：70% 训练，30% 测试"),
    "all rows": N_("按同一设计用全部样本重新拟合（测试指标来自70%样本拟合的评分卡）"),
}


def _figure(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, float):
        return _trim(value, 4)
    if isinstance(value, int):
        return str(value)
    return str(value)


def metric_rows(metrics: dict[str, object]) -> list[tuple[str, str]]:
    """Return a version's training metrics as (Chinese label, value) rows (IV is shown per
    feature elsewhere)."""
    from xinrong.credit.choices import TrainingData

    rows = []
    for key, value in metrics.items():
        if key == "iv":
            continue
        if key == "outcomes" and value in TrainingData.values:
            text = str(TrainingData(value).label)
        else:
            text = _figure(value)
        rows.append((_(METRIC_LABELS[key]) if key in METRIC_LABELS else key, text))
    return rows


def training_rows(training: dict[str, object]) -> list[tuple[str, str]]:
    """Return what a version was trained on as (Chinese label, value) rows."""
    from xinrong.credit.choices import TrainingData

    rows = []
    for key, value in training.items():
        if key == "data" and value in TrainingData.values:
            text = str(TrainingData(value).label)
        elif key == "bad_rate" and isinstance(value, int | float):
            text = _percent(float(value), signed=False)
        elif isinstance(value, str) and value in _TRAINING_VALUES:
            text = _(_TRAINING_VALUES[value])
        else:
            text = _figure(value)
        rows.append((_(TRAINING_LABELS[key]) if key in TRAINING_LABELS else key, text))
    return rows


def training_data_label(training: dict[str, object]) -> str:
    """Return the Chinese name of what a version was trained on."""
    from xinrong.credit.choices import TrainingData

    data = training.get("data")
    return str(TrainingData(data).label) if data in TrainingData.values else str(data or "—")
