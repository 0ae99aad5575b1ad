"""Bridge between service errors and Django forms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy as _

from xinrong.common.errors import error_payload


def add_service_error(form: forms.Form, exc: Exception) -> None:
    """Attach a service error to the form field it names, or to the form as a whole.

    A ValidationError naming several fields puts each field's messages on that field.
    """
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") and len(exc.error_dict) > 1:
        for name, errors in exc.error_dict.items():
            message = "；".join(m for e in errors for m in e.messages)
            form.add_error(name if name in form.fields else None, message)
        return
    _status, body = error_payload(exc)
    field = body["extra"].get("field")
    form.add_error(field if field in form.fields else None, body["message"])


class FormRenderer(DjangoTemplates):
    """Render ``{{ form }}`` and ``{{ field.as_field_group }}`` with the one template set.

    The same templates are included by hand as ``web/_form.html`` and ``web/_field.html``: every
    error of a form shown at once with the field's label, each field with Bootstrap's classes.
    """

    form_template_name = "web/_form.html"
    field_template_name = "web/_field.html"


# ---------------------------------------------------------------- number fields' messages
# Django's own messages for numbers are generic and, in zh-hans, end in an English full stop
# ("确认总共不超过 16 个数字.") or say nothing of the field. Every number field of every form
# gets the platform's messages here, in one place, naming the field and the rule; exponent
# notation ("1e5") is refused rather than echoed back as "1E+5"; an integer field without its
# own bounds is kept within what the database column holds.

INT_LIMIT = 2_147_483_647  # PostgreSQL/SQLite integer columns of Django's IntegerField
_EXPONENT_RE = re.compile(r"[eE]")


def _label(field: forms.Field) -> str:
    return str(field.label or "") or str(_("该项"))


def _figure(value: Any) -> str:
    """Return a limit as people write it: thousands separators, no exponent, no trailing zeros."""
    if isinstance(value, Decimal):
        text = f"{value:,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)


def number_message(field: forms.Field, code: str, params: dict[str, Any] | None = None) -> str:
    """Return the platform's message for a number field's error ``code``, naming the field."""
    p = {"field": _label(field), **{k: _figure(v) for k, v in (params or {}).items()}}
    messages = {
        "invalid_decimal": _("%(field)s应为数字，例如 100000 或 1234.56"),
        "invalid_integer": _("%(field)s应为整数，例如 12"),
        "exponent": _("%(field)s请直接写出数字（例如 100000），不能使用科学计数法“%(value)s”"),
        "max_value": _("%(field)s不能超过 %(limit_value)s"),
        "min_value": _("%(field)s不能小于 %(limit_value)s"),
        "max_digits": _("%(field)s总共不能超过 %(max)s 位数字"),
        "max_decimal_places": _("%(field)s最多保留 %(max)s 位小数"),
        "max_whole_digits": _("%(field)s的整数部分不能超过 %(max)s 位"),
        "step_size": _("%(field)s应为 %(limit_value)s 的整数倍"),
    }
    return str(messages[code]) % p


def _number_to_python(original: Any, invalid: str) -> Any:
    def to_python(self: forms.Field, value: Any) -> Any:
        if isinstance(value, str) and _EXPONENT_RE.search(value):
            raise ValidationError(
                number_message(self, "exponent", {"value": value.strip()[:30]}), code="invalid"
            )
        try:
            return original(self, value)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid":
                raise ValidationError(number_message(self, invalid), code="invalid") from None
            raise

    return to_python


_NUMBER_CODES = {
    "max_value": ("limit_value",),
    "min_value": ("limit_value",),
    "step_size": ("limit_value",),
    "max_digits": ("max",),
    "max_decimal_places": ("max",),
    "max_whole_digits": ("max",),
}


def _run_validators(original: Any, integer: bool) -> Any:
    def run_validators(self: forms.Field, value: Any) -> None:
        if value in self.empty_values:
            return
        if integer and getattr(self, "max_value", None) is None and value > INT_LIMIT:
            raise ValidationError(
                number_message(self, "max_value", {"limit_value": INT_LIMIT}), code="max_value"
            )
        if integer and getattr(self, "min_value", None) is None and value < -INT_LIMIT:
            raise ValidationError(
                number_message(self, "min_value", {"limit_value": -INT_LIMIT}), code="min_value"
            )
        errors = []
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as exc:
                code = getattr(exc, "code", None)
                params = exc.params or {}
                if code in _NUMBER_CODES and set(_NUMBER_CODES[code]) <= set(params):
                    errors.append(ValidationError(number_message(self, code, params), code=code))
                else:
                    errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)

    return run_validators


_REQUIRED_DEFAULT = forms.Field.default_error_messages["required"]


def required_message(field: forms.Field) -> str:
    """Return "请填写…" / "请选择…" naming the field, for a field left empty."""
    if isinstance(field, forms.BooleanField):
        return str(_("请勾选“%(field)s”")) % {"field": _label(field)}
    if isinstance(field, forms.ChoiceField | forms.FileField):
        return str(_("请选择%(field)s")) % {"field": _label(field)}
    return str(_("请填写%(field)s")) % {"field": _label(field)}


def _clean_naming_required(original: Any) -> Any:
    def clean(self: forms.Field, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        except ValidationError as exc:
            # only Django's own words ("这个字段是必填项。"); a form's own message stays
            if getattr(exc, "code", None) == "required" and (
                getattr(exc, "message", None) is _REQUIRED_DEFAULT
            ):
                raise ValidationError(required_message(self), code="required") from None
            raise

    return clean


def number_messages_install() -> None:
    """Give every form's fields the platform's generic messages (called once, at start-up).

    Number fields name the field and the rule (see above); a required field left empty says
    "请填写<字段>" or "请选择<字段>" instead of Django's "这个字段是必填项。".
    """
    if getattr(forms.DecimalField, "_xinrong_messages", False):
        return
    forms.Field.clean = _clean_naming_required(forms.Field.clean)  # type: ignore[method-assign]
    forms.DecimalField.to_python = _number_to_python(  # type: ignore[method-assign]
        forms.DecimalField.to_python, "invalid_decimal"
    )
    forms.DecimalField.run_validators = _run_validators(  # type: ignore[method-assign]
        forms.DecimalField.run_validators, integer=False
    )
    forms.IntegerField.to_python = _number_to_python(  # type: ignore[method-assign]
        forms.IntegerField.to_python, "invalid_integer"
    )
    forms.IntegerField.run_validators = _run_validators(  # type: ignore[method-assign]
        forms.IntegerField.run_validators, integer=True
    )
    forms.DecimalField._xinrong_messages = True  # type: ignore[attr-defined]


# ---------------------------------------------------------------- phone numbers and usernames


class PhoneField(forms.CharField):
    """A Chinese mainland mobile or a landline with its area code; stored normalised."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)  # the rule below says how long, in words
        kwargs.setdefault("help_text", _("手机号，或带区号的固定电话（如 0971-1234567）"))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        from xinrong.common.validators import validate_phone

        text = super().clean(value)
        return validate_phone(text, label=_label(self)) if text else ""


class UsernameField(forms.CharField):
    """A login name: letters, digits, underscore, dot and hyphen; 3–30 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)  # the rule below says how long, in words
        kwargs.setdefault("help_text", _("3–30 位英文字母、数字、下划线、点或连字符"))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        from xinrong.common.validators import validate_username

        text = super().clean(value)
        return validate_username(text, label=_label(self)) if text else text


class DateInput(forms.DateInput):
    """A browser date picker whose value is always ISO ``YYYY-MM-DD``.

    ``<input type="date">`` accepts only ISO dates; Django's default renders the localised format
    ("2026年12月6日" in Chinese), which the browser silently drops: the field looks filled and
    submits empty. Every form with a date field uses this widget.
    """

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
