"""Find what a reader should never see on a Chinese page: codes, booleans, English, intervals.

One checker for every page test (web/tests/test_plain_words.py walks every role's pages;
credit/tests/test_plain_words.py renders the credit pages in depth). ``problems(html)`` returns
the offending words of a page's visible text:

- a raw stored value of any of the platform's choices whose label reads differently (every
  ``TextChoices`` of ``xinrong``, and the fact categories' choice codes), e.g. ``in_review``;
- an identifier (``tax_paid_12m``, ``auc_train``) or an English word of three letters or more
  outside ``ALLOWED`` (terms the field writes in Latin letters: AUC, PSI, PDF, Excel …);
- ``True`` / ``False`` / ``None``;
- interval notation such as ``[0.032821, 0.993024)`` or ``[2.5, +∞)``.

Visible text is the text nodes and the ``title``, ``placeholder``, ``aria-label`` and ``alt``
attributes; not scripts, styles or form values, and not what a page marks as not prose:
``code``/``kbd``/``samp``, ``translate="no"`` (usernames, codes) and ``data-free-text`` (notes
people typed, theirs to word). Parts of codes, paths and addresses (``DK-LATE-1``,
``a.b@c.cn``) are not words.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urldefrag

from django.db import models

# Terms written in Latin letters in Chinese finance and IT usage, shown as such on purpose.
ALLOWED = frozenset(
    {
        "AUC", "KS", "PSI", "IV", "WOE", "Gini", "API", "APIs", "PDF", "Excel", "CSV", "XLSX",
        "JPG", "JPEG", "PNG", "MB", "KB", "BPMN", "USCC", "OpenAPI", "JSON", "HMAC", "SHA",
        "SM3", "SM4", "CNY", "LPR", "SLA", "App", "ID", "URL", "OK", "SMS", "Email", "Swagger",
        "HTTP", "HTTPS", "Key", "ECharts", "WIFI",
        # credit grades are written in Latin letters
        "AAA", "AA", "BBB", "BB", "CCC", "CC",
        # the language selector names each language in its own words
        "English",
    }
)  # fmt: skip
SKIP_TAGS = {"script", "style", "template", "noscript", "svg", "code", "kbd", "samp"}
VISIBLE_ATTRS = ("title", "placeholder", "aria-label", "alt")
_TOKEN = re.compile(r"[A-Za-z0-9_]+")
_CODE_JOINERS = set("-./:@/\\")
_BOOLS = re.compile(r"(?<![A-Za-z])(True|False|None)(?![A-Za-z])")
_INTERVAL = re.compile(r"[\[(]\s*[-+]?(\d[\d.,]*|∞)\s*,\s*[-+]?(\d[\d.,]*|∞)\s*[)\]]")


class PageText(HTMLParser):
    """Collect a page's visible text and its same-site links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skipping: list[str] = []  # tags of the open elements whose text is not prose

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if (
            tag in SKIP_TAGS
            or values.get("translate") == "no"
            or "data-free-text" in values
            or (self._skipping and tag == self._skipping[-1])  # nested alike: closes in turn
        ):
            self._skipping.append(tag)
        elif not self._skipping:
            for name in VISIBLE_ATTRS:
                if values.get(name):
                    self.parts.append(str(values[name]))
        href = values.get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.links.append(urldefrag(href)[0])

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """Return the text a reader sees of a page, its runs of white space as one space."""
    parser = PageText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _subclasses(cls: type[models.TextChoices]) -> list[type[models.TextChoices]]:
    found: list[type[models.TextChoices]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def raw_choice_values() -> frozenset[str]:
    """Return stored values of the platform's choices whose label reads differently."""
    from xinrong.datahub.categories import CHOICE_LABELS

    pairs: list[tuple[str, str]] = []
    for cls in _subclasses(models.TextChoices):
        if cls.__module__.startswith("xinrong.") and ".tests" not in cls.__module__:
            pairs += [(str(v), str(label)) for v, label in cls.choices]
    for labels in CHOICE_LABELS.values():
        pairs += [(str(code), str(label)) for code, label in labels.items()]
    # codes that are also ordinary text (grades, single letters) are not words on their own
    return frozenset(
        v for v, label in pairs if v != label and re.fullmatch(r"[a-z][a-z0-9_.]{2,}", v)
    )


def problems(html: str, *, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """Return the raw values, identifiers, English words, booleans and intervals on a page."""
    return text_problems(visible_text(html), allowed=allowed)


def text_problems(text: str, *, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """Return the problems of a page's visible text (see the module's docstring)."""
    raw = raw_choice_values()
    found = [f"区间写法：{m.group(0)}" for m in _INTERVAL.finditer(text)]
    found += [f"布尔值：{m.group(0)}" for m in _BOOLS.finditer(text)]
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if before in _CODE_JOINERS or after in _CODE_JOINERS or token in allowed:
            continue
        if token in {"True", "False", "None"}:
            continue
        if token in raw:
            found.append(f"内部取值：{token}")
        elif "_" in token.strip("_") and re.search(r"[A-Za-z]", token):
            found.append(f"标识符：{token}")
        elif re.fullmatch(r"[A-Za-z]{3,}", token):
            found.append(f"英文：{token}")
    return found
