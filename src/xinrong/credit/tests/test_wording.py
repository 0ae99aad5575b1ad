"""Feature values and scorecard bins in plain Chinese, with units (credit.wording)."""

import math

import pytest

from xinrong.common.tests.plain_words import problems
from xinrong.credit.features import FEATURES
from xinrong.credit.scorecard import BinnedFeature
from xinrong.credit.wording import (
    VALUE_KINDS,
    bin_range,
    bin_sentence,
    metric_rows,
    money_text,
    training_rows,
    value_text,
)


def _binned(name, splits):
    n = len(splits) + 2
    return BinnedFeature(
        name=name,
        splits=splits,
        woe=[0.0] * n,
        points=[0.0] * n,
        counts=[1] * n,
        event_rates=[0.1] * n,
        iv=0.1,
        coef=-1.0,
    )


def test_tax_paid_bins_read_as_sentences_in_yuan_and_wan_yuan():
    f = _binned("tax_paid_12m", [0.032821, 0.993024, 3.2])
    assert bin_sentence("tax_paid_12m", f, 3) == "近12个月纳税额不低于3.2万元"
    assert bin_sentence("tax_paid_12m", f, 0) == "近12个月纳税额低于328元"
    assert bin_range("tax_paid_12m", f, 1) == "在 328 元 至 9,930 元 之间"
    assert bin_sentence("tax_paid_12m", f, 4) == "平台尚无近12个月纳税额的数据"


def test_counts_read_as_whole_numbers_with_their_unit():
    f = _binned("loan_overdue_days_24m", [0.5, 2.5])
    assert [bin_range(f.name, f, i) for i in range(3)] == ["为 0天", "1 至 2天", "不少于 3天"]
    g = _binned("penalties_general", [2.5])
    assert bin_range(g.name, g, 0) == "不超过 2次"


def test_grades_read_as_letters_and_flags_as_phrases():
    g = _binned("tax_grade", [2.5, 4.5])
    assert [bin_range("tax_grade", g, i) for i in range(3)] == ["为 C、D", "为 B、M", "为 A"]
    assert value_text("tax_grade", 5.0) == "A" and value_text("tax_grade", 3.0) == "M"
    flag = _binned("dishonest", [0.5])
    assert bin_sentence("dishonest", flag, 1) == "被列为失信被执行人"
    assert bin_sentence("dishonest", flag, 0) == "未被列为失信被执行人"
    assert value_text("abnormal_listed", 0.0) == "否"


def test_changes_and_shares_read_as_percentages():
    f = _binned("tax_trend", [-0.25, 0.1])
    assert bin_range("tax_trend", f, 0) == "低于 -25%"
    assert bin_range("tax_trend", f, 2) == "不低于 +10%"
    assert value_text("platform_settled_share", 0.5) == "50%"
    assert value_text("years_in_business", 2.5) == "2.5年"
    assert value_text("tax_paid_12m", math.nan) == "无数据"


@pytest.mark.parametrize(
    ("wan", "text"),
    [(0.032821, "328 元"), (0.9930, "9,930 元"), (3.2821, "3.28 万元"), (12.34, "12.3 万元"),
     (1250.4, "1,250 万元")],
)  # fmt: skip
def test_money_is_rounded_sensibly(wan, text):
    assert money_text(wan) == text


def test_every_feature_reads_without_codes_or_intervals():
    for spec in FEATURES:
        f = _binned(spec.name, [0.5, 2.5])
        texts = [bin_sentence(spec.name, f, i) for i in range(4)]
        texts.append(value_text(spec.name, 1.0))
        assert problems("<p>" + "；".join(texts) + "</p>") == [], spec.name
        if VALUE_KINDS.get(spec.name) not in {"grade", "flag", "change", "share"}:
            assert spec.unit, spec.name  # a measure without a unit reads as a bare number


def test_metric_and_training_names_read_in_chinese():
    rows = dict(metric_rows({"auc_train": 0.8123, "outcomes": "synthetic", "iv": {}}))
    assert rows == {"训练集 AUC": "0.8123", "训练结果来源": "合成数据（潜在风险→违约）"}
    rows = dict(
        training_rows(
            {
                "data": "platform",
                "bad_rate": 0.05,
                "split": "stratified 70/30",
                "refit": "all rows",
            }
        )
    )
    assert rows == {
        "训练数据": "平台贷款结果",
        "坏样本率": "5%",
        "样本划分": "分层抽样：70% 训练，30% 测试",
        "入库评分卡": "按同一设计用全部样本重新拟合（测试指标来自70%样本拟合的评分卡）",
    }


def test_a_grade_goal_is_never_a_sanction_for_an_entity_with_no_grade():
    from xinrong.credit.wording import grade_goal

    g = _binned("tax_grade", [2.5, 4.5])  # bins: C/D, B/M, A
    nan = float("nan")
    assert grade_goal(g, 0, nan) is None  # not "达到D级" for a shop with no tax grade
    assert grade_goal(g, 1, nan) == "B" and grade_goal(g, 2, nan) == "A"
    assert grade_goal(g, 0, 1.0) == "C"  # from D, C is a step up
    assert grade_goal(g, 1, 2.0) == "B"
