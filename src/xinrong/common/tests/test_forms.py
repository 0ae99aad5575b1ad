"""The one form-field template set: every error at once with its label, Bootstrap widgets."""

from __future__ import annotations

import re

from django import forms
from django.template import Context, Template


class SampleForm(forms.Form):
    name = forms.CharField(label="企业名称", max_length=10)
    amount = forms.DecimalField(label="申请金额（万元）", help_text="不超过1000万元")
    kind = forms.ChoiceField(label="类型", choices=[("a", "甲"), ("b", "乙")])
    channel = forms.ChoiceField(
        label="渠道", choices=[("web", "网页"), ("app", "手机")], widget=forms.RadioSelect
    )
    agree = forms.BooleanField(label="同意授权", required=False)
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "b" and not cleaned.get("agree"):
            raise forms.ValidationError("选择乙类须同意授权")
        return cleaned


BAD = {"name": "x" * 11, "amount": "abc", "kind": "b", "channel": "web", "note": "<b>"}


def _include(form: forms.Form) -> str:
    return Template('{% include "web/_form.html" %}').render(Context({"form": form}))


def test_every_error_is_listed_at_once_with_its_field_label():
    html = _include(SampleForm(BAD))
    text = re.sub(
        r"<[^>]+>", "", html[html.index("data-form-errors") : html.index('data-field="name"')]
    )
    assert "选择乙类须同意授权" in text
    assert "企业名称：" in text
    # a message that names its field is listed as it is, not prefixed with the label again
    assert "申请金额（万元）应为数字" in text and "申请金额（万元）：" not in text
    assert 'href="#id_name"' in html


def test_each_field_shows_its_own_error_and_is_marked_invalid():
    html = _include(SampleForm(BAD))
    assert re.search(r'data-field-error="amount">[^<]*数', html)
    (amount,) = [t for t in re.findall(r"<input[^>]*>", html) if 'name="amount"' in t]
    assert 'class="form-control is-invalid"' in amount and 'aria-invalid="true"' in amount


def test_widgets_get_bootstrap_classes_and_values():
    html = _include(SampleForm(BAD))
    assert re.search(r'<select[^>]*class="form-select"', html)
    assert re.search(r'<textarea[^>]*class="form-control"', html) and "&lt;b&gt;" in html
    (web,) = [t for t in re.findall(r'<input type="radio"[^>]*>', html) if 'value="web"' in t]
    assert 'class="form-check-input"' in web and "checked" in web
    assert re.search(r'<input type="checkbox"[^>]*class="form-check-input"', html)
    assert 'type="hidden" name="token"' in html
    assert "不超过1000万元" in html


def test_an_unbound_form_shows_no_error_box():
    html = _include(SampleForm())
    assert "data-form-errors" not in html and "is-invalid" not in html


def test_the_form_renderer_uses_the_same_templates():
    form = SampleForm(BAD)
    assert "data-form-errors" in str(form)
    group = form["amount"].as_field_group()
    assert 'data-field="amount"' in group and 'data-field-error="amount"' in group


def test_a_compact_field_for_filters():
    form = SampleForm()
    html = Template(
        '{% include "web/_field.html" with field=form.kind field_class="col-md-2" size="sm" %}'
    ).render(Context({"form": form}))
    assert 'class="col-md-2"' in html and 'class="form-select form-select-sm"' in html
