"""Amounts of money as each language writes them (``{% load money %}``).

Chinese puts the unit after the figure ("1,000.00 元", "50 万元", "1,000–5,000 元"); English puts
the currency first and writes 万 (ten thousand) out ("CNY 1,000.00", "CNY 500,000",
"CNY 1,000 – 5,000"), so a translated unit never lands after the figure ("1,000 CNY 10,000").
Amounts stay Decimal; the functions are usable from Python (selectors building text) too.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()

# Units these helpers understand, in yuan per unit.
YUAN_UNITS = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}


def _english() -> bool:
    return (get_language() or "").lower().startswith("en")


def to_decimal(value: Any) -> Decimal | None:
    """Return ``value`` as a finite Decimal ("1,000.5" reads as 1000.5), or None."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _figure(number: Decimal, places: int | None) -> str:
    """``number`` with thousands separators; ``places`` None: as few decimals as it needs."""
    if places is None:
        text = f"{number:,f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return f"{number.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def amount_text(value: Any, unit: str = "元", places: int | None = 2) -> str:
    """Return ``value`` (in ``unit``: 元, 万元 or 亿元) as the active language writes an amount.

    Chinese: "1,000.00 元", "50 万元"; English: "CNY 1,000.00", "CNY 500,000" (万元 and 亿元
    converted to yuan). A value that is not a number is returned as it is; None gives "—".
    """
    number = to_decimal(value)
    if number is None:
        return "—" if value in (None, "") else str(value)
    if _english():
        yuan = number * YUAN_UNITS.get(unit, Decimal(1))
        shown = places if unit == "元" else (places if yuan != yuan.to_integral() else 0)
        return f"CNY {_figure(yuan, shown)}"
    return f"{_figure(number, places)} {unit}"


def yuan_text(value: Any) -> str:
    """Return an amount in yuan exactly, whole yuan without decimals: "5,000,000 元" /
    "12,345.67 元" ("CNY 5,000,000" / "CNY 12,345.67"); for labels where ".00" is noise.
    """
    number = to_decimal(value)
    if number is None:
        return amount_text(value)
    return amount_text(number, "元", 0 if number == number.to_integral() else 2)


def amount_range_text(low: Any, high: Any, unit: str = "元", places: int | None = 0) -> str:
    """Return a range of amounts: "1,000–5,000 元" / "CNY 1,000 – 5,000"."""
    lo, hi = to_decimal(low), to_decimal(high)
    if lo is None or hi is None or lo == hi:
        return amount_text(lo if lo is not None else hi, unit, places)
    if _english():
        factor = YUAN_UNITS.get(unit, Decimal(1))
        lo_y, hi_y = lo * factor, hi * factor
        exact = lo_y == lo_y.to_integral() and hi_y == hi_y.to_integral()
        shown = places if unit == "元" or not exact else 0
        return f"CNY {_figure(lo_y, shown)} – {_figure(hi_y, shown)}"
    return f"{_figure(lo, places)}–{_figure(hi, places)} {unit}"


@register.filter
def money(value: Any, places: Any = 2) -> str:
    """``{{ amount|money }}``: an amount in yuan, "1,000.00 元" / "CNY 1,000.00".

    ``{{ amount|money:0 }}`` without decimals ("1,000 元" / "CNY 1,000").
    """
    return amount_text(value, "元", int(places))


@register.filter
def money_wan(value: Any) -> str:
    """``{{ amount|money_wan }}``: an amount in 万元, "50 万元" / "CNY 500,000"."""
    return amount_text(value, "万元", None)


@register.simple_tag
def money_range(low: Any, high: Any, unit: str = "元") -> str:
    """``{% money_range low high "万元" %}``: "1–5 万元" / "CNY 10,000 – 50,000"."""
    if unit != "元":
        return amount_range_text(low, high, unit, None)
    # Yuan: whole yuan when both ends are whole, else to the cent (never rounded away).
    whole = all(n is None or n == n.to_integral() for n in (to_decimal(low), to_decimal(high)))
    return amount_range_text(low, high, unit, 0 if whole else 2)
