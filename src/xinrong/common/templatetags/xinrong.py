"""Template helpers shared by all apps (``{% load xinrong %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from xinrong.common.choices import choices_of_field, colour_of

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """Return ``mapping[key]`` or "" (for dicts looked up with a variable key)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


# Bootstrap's class per kind of widget (``BoundField.widget_type``); others "form-control".
_WIDGET_CLASS = {
    "checkbox": "form-check-input",
    "radioselect": "form-check-input",
    "checkboxselectmultiple": "form-check-input",
    "select": "form-select",
    "selectmultiple": "form-select",
    "nullbooleanselect": "form-select",
    "range": "form-range",
}
_BASE_CLASSES = {"form-control", "form-select", "form-check-input", "form-range"}


def _widget_class(field: BoundField, size: str = "") -> str:
    """Return the widget's classes: its own, the Bootstrap base, the size and ``is-invalid``."""
    own = str(field.field.widget.attrs.get("class", "")).split()
    base = _WIDGET_CLASS.get(field.widget_type, "form-control")
    classes = own if _BASE_CLASSES.intersection(own) else [*own, base]
    if size and base in ("form-control", "form-select"):
        classes.append(f"{base}-{size}")
    if field.errors:
        classes.append("is-invalid")
    return " ".join(dict.fromkeys(classes))


@register.filter
def form_widget(field: BoundField, size: str = "") -> str:
    """Render a field's widget with Bootstrap's classes (``size`` "sm" for compact filters)."""
    return field.as_widget(attrs={"class": _widget_class(field, size or "")})


@register.filter
def form_options(field: BoundField) -> list[BoundWidget]:
    """Return the options of a radio or multiple-checkbox field with Bootstrap's classes."""
    widget = field.field.widget
    attrs: dict[str, Any] = {"class": _widget_class(field)}
    auto_id = widget.attrs.get("id") or field.auto_id
    if auto_id:
        attrs["id"] = auto_id
    attrs = field.build_widget_attrs(attrs)
    return [
        BoundWidget(widget, option, field.form.renderer)
        for option in widget.subwidgets(field.html_name, field.value(), attrs=attrs)
    ]


def _label(choices: Any, value: Any) -> str:
    """Return the Chinese label of ``value`` in ``choices`` (the value itself if unknown)."""
    try:
        return str(choices(value).label)
    except (TypeError, ValueError):
        return str(value)


@register.simple_tag
def status_badge(subject: Any, of: Any = None, *, id: str = "", css: str = "") -> SafeString:
    """Draw a status as a coloured badge with its label; the colour comes from the choices.

    ``{% status_badge application "status" %}`` reads the model's field (label from
    ``get_status_display``); ``{% status_badge value Choices %}`` takes a value and the choices
    class (in the context). ``id`` and ``css`` (extra classes, e.g. ``fs-6``) are optional.
    The badge carries ``data-status`` with the stored value for tests and scripts.
    """
    if isinstance(subject, models.Model) and isinstance(of, str):
        value = getattr(subject, of)
        choices = choices_of_field(type(subject), of)
        label = str(getattr(subject, f"get_{of}_display")())
    else:
        value, choices = subject, of
        label = _label(choices, value) if choices is not None else str(value)
    value = getattr(value, "value", value)
    if value in (None, ""):
        return mark_safe('<span class="text-secondary">—</span>')
    colour = colour_of(choices, value)
    classes = f"badge text-bg-{colour}" + (" border" if colour == "light" else "")
    if css:
        classes += f" {css}"
    if id:
        return format_html(
            '<span class="{}" id="{}" data-status="{}">{}</span>', classes, id, value, label
        )
    return format_html('<span class="{}" data-status="{}">{}</span>', classes, value, label)


@register.simple_tag(takes_context=True)
def slot(context: Any, name: str, obj: Any) -> SafeString:
    """Render the panels upper apps registered for slot ``name`` (``xinrong.common.slots``)."""
    from xinrong.common.slots import slot_render

    request = context.get("request")
    if request is None:
        return mark_safe("")
    return slot_render(name, request, obj)
