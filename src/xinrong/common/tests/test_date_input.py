"""Every date input renders an ISO value (a browser drops "2026年12月6日" and submits empty)."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.utils import translation

import xinrong
from xinrong.common.forms import DateInput
from xinrong.marketplace.forms import DisburseForm, RepayForm, SignForm


def _form_classes() -> list[type[forms.BaseForm]]:
    found: dict[str, type[forms.BaseForm]] = {}
    for info in pkgutil.walk_packages(xinrong.__path__, "xinrong."):
        if ".tests" in info.name or ".migrations" in info.name or "settings" in info.name:
            continue
        if not (info.name.endswith("forms") or ".views" in info.name):
            continue
        module = importlib.import_module(info.name)
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, forms.BaseForm) and obj.__module__.startswith("xinrong."):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def test_every_date_field_uses_the_iso_widget() -> None:
    classes = _form_classes()
    assert len(classes) > 10
    offenders = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in classes
        for name, field in cls.base_fields.items()  # type: ignore[attr-defined]
        if isinstance(field, forms.DateField)
        and not isinstance(field, forms.DateTimeField)
        and not isinstance(field.widget, DateInput)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("form", "name"),
    [(SignForm, "signed_on"), (DisburseForm, "disbursed_on"), (RepayForm, "paid_on")],
)
def test_chinese_locale_renders_iso_value(form: type[forms.Form], name: str) -> None:
    with translation.override("zh-hans"):
        html = str(form(initial={name: dt.date(2026, 12, 6)})[name])
    assert 'type="date"' in html
    assert 'value="2026-12-06"' in html
    assert "年" not in html


def test_widget_round_trips() -> None:
    class F(forms.Form):
        day = forms.DateField(widget=DateInput())

    bound = F(data={"day": "2026-12-06"})
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["day"] == dt.date(2026, 12, 6)
    assert 'value="2026-12-06"' in str(bound["day"])
