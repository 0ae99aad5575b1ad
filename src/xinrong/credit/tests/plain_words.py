"""Find what a reader should never see on a Chinese page: codes, booleans, English, intervals.

``problems(html)`` returns the offending words of a page's visible text (script, style and
attribute values are not visible; free text people typed, marked ``data-free-text``, is theirs
to word): a raw value of any credit, datahub or enterprises choice
(TextChoices and the fact categories' choice codes), True/False/None, ASCII words of three or
more letters outside ``ALLOWED``, and interval notation such as "[0.1, 0.2)" or "[2.5, +∞)".
"""

from __future__ import annotations

import inspect
import re
from html.parser import HTMLParser

from django.db import models

from xinrong.credit import choices as credit_choices
from xinrong.datahub import choices as datahub_choices
from xinrong.datahub.categories import CHOICE_LABELS
from xinrong.enterprises import choices as enterprise_choices

# Abbreviations a Chinese reader knows (and product names).
ALLOWED = frozenset(
    {
        "AUC", "PSI", "KS", "API", "USCC", "PDF", "Excel", "WOE", "IV", "Gini", "ECharts",
        "CSV", "XLSX", "JPG", "PNG", "MB", "KB", "ID", "URL", "OK", "BBB", "AAA", "AA", "BB",
        "CCC", "CC", "xinrong",
    }
)  # fmt: skip
_SKIP = {"script", "style", "noscript", "template"}
_VOID = {"br", "img", "input", "hr", "meta", "link", "source", "wbr", "col", "area", "base"}
_WORD = re.compile(r"(?<![A-Za-z0-9_./:@-])[A-Za-z][A-Za-z_]{2,}(?![A-Za-z0-9_@])")
_INTERVAL = re.compile(r"[\[(]\s*[-+]?(?:[\d.]+|∞)\s*,\s*[-+]?(?:[\d.]+|∞)\s*[\])]")
_BOOLS = re.compile(r"(?<![A-Za-z])(True|False|None)(?![A-Za-z])")


def _choice_values() -> set[str]:
    values: set[str] = set()
    for module in (credit_choices, datahub_choices, enterprise_choices):
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, models.TextChoices) and obj is not models.TextChoices:
                values.update(str(v) for v in obj.values)
    for labels in CHOICE_LABELS.values():
        values.update(code for code, label in labels.items() if code != label)
    # codes that are also ordinary text (grades, single letters) are not words on their own
    return {v for v in values if len(v) >= 3 and re.fullmatch(r"[a-z][a-z_.]+", v)}


CHOICE_VALUES = frozenset(_choice_values())


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []

        self.free: list[str] = []  # open tags of free text (notes people typed), not checked
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        if tag in _VOID:
            return
        if self.free or any(name == "data-free-text" for name, _v in attrs):
            self.free.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip:
            self.skip -= 1
        if self.free and self.free[-1] == tag:
            self.free.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip and not self.free:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """Return the text a reader sees (no scripts, styles or attributes)."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def problems(html: str, *, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """Return the raw values, booleans, English words and intervals in a page's visible text."""
    text = visible_text(html)
    found = [f"区间写法：{m.group(0)}" for m in _INTERVAL.finditer(text)]
    found += [f"布尔值：{m.group(0)}" for m in _BOOLS.finditer(text)]
    for m in _WORD.finditer(text):
        word = m.group(0)
        if word in allowed:
            continue
        if word in CHOICE_VALUES:
            found.append(f"内部取值：{word}")
        elif word not in {"True", "False", "None"}:
            found.append(f"英文：{word}")
    return found
