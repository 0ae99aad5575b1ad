"""Number fields of every form: Chinese messages naming the field, no exponent, bounded integers."""

from __future__ import annotations

from django import forms
from django.utils import translation

from xinrong.marketplace.forms import DemandForm, ProductForm


class Sample(forms.Form):
    amount = forms.DecimalField(label="申请金额（元）", max_digits=16, decimal_places=2)
    rate = forms.DecimalField(label="年利率（%）", max_digits=5, decimal_places=2, max_value=24)
    employees = forms.IntegerField(label="从业人数", min_value=0)


def errors(data: dict[str, str]) -> dict[str, list[str]]:
    with translation.override("zh-hans"):
        form = Sample(data)
        form.is_valid()
        return {k: [str(m) for m in v] for k, v in form.errors.items()}


def test_too_many_digits_names_the_field_in_chinese_punctuation():
    got = errors({"amount": "12345678901234567", "rate": "1", "employees": "1"})
    assert got["amount"] == ["申请金额（元）总共不能超过 16 位数字"]
    assert not any(m.endswith(".") for m in got["amount"])


def test_exponent_is_refused_not_echoed():
    got = errors({"amount": "1e5", "rate": "1", "employees": "1"})
    assert "科学计数法" in got["amount"][0] and "申请金额（元）" in got["amount"][0]


def test_integer_beyond_the_column_says_the_maximum():
    got = errors({"amount": "1", "rate": "1", "employees": str(10**15)})
    assert got["employees"] == ["从业人数不能超过 2,147,483,647"]


def test_all_errors_at_once_and_bounds_named():
    got = errors({"amount": "abc", "rate": "30", "employees": "-1"})
    assert got == {
        "amount": ["申请金额（元）应为数字，例如 100000 或 1234.56"],
        "rate": ["年利率（%）不能超过 24"],
        "employees": ["从业人数不能小于 0"],
    }


def test_the_platform_forms_use_them():
    with translation.override("zh-hans"):
        form = DemandForm({"amount": "1E+5", "term_months": str(10**15), "max_rate": "123456"})
        form.is_valid()
        assert "科学计数法" in form.errors["amount"][0]
        assert form.errors["term_months"] == ["期限（月）不能超过 2,147,483,647"]
        assert "可接受的最高年利率（%）" in form.errors["max_rate"][0]
        product = ProductForm({"amount_min": "12345678901234567.5", "rate_min": "1.234"})
        product.is_valid()
        assert product.errors["amount_min"] == ["最低额度（元）总共不能超过 16 位数字"]
        assert product.errors["rate_min"] == ["最低年利率（%）最多保留 2 位小数"]


class Required(forms.Form):
    name = forms.CharField(label="来源名称")
    kind = forms.ChoiceField(label="机构类型", choices=[("a", "甲")])
    tags = forms.MultipleChoiceField(label="数据类别", choices=[("a", "甲")])
    agree = forms.BooleanField(label="同意授权")
    reason = forms.CharField(label="理由", error_messages={"required": "理由必须填写"})
    amount = forms.DecimalField(label="金额（元）")


def test_an_empty_required_field_is_named():
    with translation.override("zh-hans"):
        form = Required({})
        assert not form.is_valid()
        got = {k: [str(m) for m in v] for k, v in form.errors.items()}
    assert got == {
        "name": ["请填写来源名称"],
        "kind": ["请选择机构类型"],
        "tags": ["请选择数据类别"],
        "agree": ["请勾选“同意授权”"],
        "reason": ["理由必须填写"],  # a form's own words stay
        "amount": ["请填写金额（元）"],
    }
