"""Badge colours declared beside each choices class, read by the ``status_badge`` template tag.

Declare the colours right after the ``TextChoices`` they belong to::

    class DisputeStatus(models.TextChoices):
        OPEN = "open", _("处理中")
        CORRECTED = "corrected", _("已更正")
        REJECTED = "rejected", _("不予更正")

    register_colours(DisputeStatus, {
        DisputeStatus.OPEN: "primary",
        DisputeStatus.CORRECTED: "success",
    })  # the rest: "secondary"

and draw a badge with ``{% load xinrong %}{% status_badge dispute "status" %}``. The colours are
Bootstrap's (``text-bg-<colour>``), the ones the templates use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models

BADGE_COLOURS = frozenset(
    {"primary", "secondary", "success", "danger", "warning", "info", "light", "dark"}
)
DEFAULT_COLOUR = "secondary"

C = TypeVar("C", bound=type[models.Choices])


@dataclass(frozen=True)
class Colours:
    """The colour of each value of one choices class, and of the values not named."""

    by_value: Mapping[str, str]
    default: str = DEFAULT_COLOUR

    def of(self, value: Any) -> str:
        """Return the colour of ``value`` (the default for a value not named)."""
        return self.by_value.get(str(getattr(value, "value", value)), self.default)


_REGISTRY: dict[type[models.Choices], Colours] = {}
_BY_FIELD: dict[tuple[str, str], type[models.Choices] | None] = {}


def register_colours(choices: C, colours: Mapping[Any, str], *, default: str = DEFAULT_COLOUR) -> C:
    """Declare the badge colour of each value of ``choices``; return ``choices``.

    Refuses (ValueError, at import) a value that is not one of the choices or an unknown colour.
    """
    values = {str(member.value) for member in choices}
    by_value: dict[str, str] = {}
    for key, colour in {**colours, None: default}.items():
        if colour not in BADGE_COLOURS:
            raise ValueError(
                f"{choices.__name__}: unknown badge colour {colour!r}; "
                f"use one of {sorted(BADGE_COLOURS)}"
            )
        if key is None:
            continue
        value = str(getattr(key, "value", key))
        if value not in values:
            raise ValueError(f"{choices.__name__} has no value {value!r}")
        by_value[value] = colour
    _REGISTRY[choices] = Colours(by_value=by_value, default=default)
    _BY_FIELD.clear()
    return choices


def colours_of(choices: type[models.Choices]) -> Colours:
    """Return the colours declared for ``choices`` (all default when none were)."""
    return _REGISTRY.get(choices) or Colours(by_value={})


def colour_of(choices: type[models.Choices] | None, value: Any) -> str:
    """Return the badge colour of ``value`` of ``choices``."""
    return colours_of(choices).of(value) if choices is not None else DEFAULT_COLOUR


def choices_of_field(model: type[models.Model] | models.Model, field_name: str) -> Any:
    """Return the registered choices class whose values are those of ``model.field_name``."""
    opts = model._meta
    key = (opts.label, field_name)
    if key not in _BY_FIELD:
        field = opts.get_field(field_name)
        values = tuple(str(v) for v, _label in getattr(field, "flatchoices", None) or ())
        _BY_FIELD[key] = next(
            (c for c in _REGISTRY if tuple(str(m.value) for m in c) == values), None
        )
    return _BY_FIELD[key]
