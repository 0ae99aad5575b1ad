"""Plain words on every page for every role: no internal value reaches a person.

The demo world is seeded once; each demo login then walks the platform as a person would, from
its home page along the links the pages offer (breadth first, a few URLs per route, bounded), and
every page's visible text (text nodes, and the title, placeholder, aria-label and alt attributes;
not scripts, styles or form values) is checked in the Chinese locale for:

- an English word (three letters or more) outside a short allow-list of terms the field writes in
  Latin letters (AUC, PSI, API, PDF, Excel …) — raw statuses (``repaid``), kinds (``electricity``),
  feature names (``tax_paid_12m``), metric keys (``auc_train``) and usernames all fall here;
- ``True`` / ``False`` / ``None``;
- interval notation such as ``[0.032821, 0.993024)`` or ``[2.5, +∞)``;
- a raw stored value of any of the platform's choices where its label differs (``in_review``).

A finding names the role, the URL and the words, so the page to fix is one click away.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.db import models
from django.test import Client
from django.urls import Resolver404, resolve

from xinrong.web.seed import DEMO_PASSWORD, DEMO_USERS

pytestmark = [pytest.mark.django_db]

# Terms written in Latin letters in Chinese finance and IT usage, shown as such on purpose.
ALLOWED_WORDS = {
    "AUC", "KS", "PSI", "IV", "API", "APIs", "PDF", "Excel", "CSV", "XLSX", "BPMN", "USCC",
    "OpenAPI", "JSON", "HMAC", "SHA", "SM3", "SM4", "CNY", "LPR", "SLA", "App", "ID", "URL",
    "SMS", "Email", "Swagger", "HTTP", "HTTPS", "Key", "ECharts", "WIFI", "WOE", "Gini",
    "JPG", "JPEG", "PNG",
    # credit grades are written in Latin letters
    "AAA", "BBB", "CCC",
    # the language selector names each language in its own words
    "English",
}  # fmt: skip
WORD = re.compile(r"(?<![A-Za-z0-9_@.\-/])[A-Za-z]{3,}(?![A-Za-z0-9_@\-/])")
LITERALS = re.compile(r"(?<![A-Za-z])(True|False|None)(?![A-Za-z])")
INTERVAL = re.compile(r"[\[(]\s*[-+]?(\d[\d.,]*|∞)\s*,\s*[-+]?(\d[\d.,]*|∞)\s*[)\]]")
# Not prose: code, and identifiers a page marks as not to be translated (usernames, codes).
SKIP_TAGS = {"script", "style", "template", "noscript", "svg", "code", "kbd", "samp"}
VISIBLE_ATTRS = ("title", "placeholder", "aria-label", "alt")
# Routes a person does not read as a page (downloads, machine data, leaving the session).
NOT_PAGES = re.compile(
    r"(export|download|template|graph_data|errors|logout|set_language|openapi|healthz|evidence)"
)
PER_ROUTE = 2  # URLs tried per route name and role
PER_ROLE = 70  # pages per role


class _Text(HTMLParser):
    """Collect a page's visible text and its same-site links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skipping: list[str] = []  # tags of the open elements whose text is not prose

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in SKIP_TAGS or values.get("translate") == "no":
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


def raw_choice_values() -> set[str]:
    """Return stored values of the platform's choices whose label reads differently."""
    out: set[str] = set()
    for cls in _subclasses(models.TextChoices):
        if not cls.__module__.startswith("xinrong.") or ".tests" in cls.__module__:
            continue
        for value, label in cls.choices:
            code = re.fullmatch(r"[a-z][a-z0-9_]*[a-z0-9]", value or "") and "_" in value
            if code and str(label) != value:
                out.add(value)
    return out


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def findings_in(text: str, raw_values: set[str]) -> list[str]:
    """Return the offending words of a page's visible text."""
    found = [w for w in WORD.findall(text) if w not in ALLOWED_WORDS]
    found += LITERALS.findall(text)
    found += [m.group(0) for m in INTERVAL.finditer(text)]
    found += [v for v in raw_values if re.search(rf"(?<![A-Za-z0-9_]){v}(?![A-Za-z0-9_])", text)]
    return found


def _route(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def walk(client: Client, start: str = "/") -> dict[str, list[str]]:
    """Visit pages from ``start`` along their links; return the findings per URL."""
    raw = raw_choice_values()
    seen: set[str] = set()
    per_route: Counter[str] = Counter()
    queue: deque[str] = deque([start])
    results: dict[str, list[str]] = {}
    while queue and len(results) < PER_ROLE:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        name = _route(url)
        if name is None or name.startswith("admin") or NOT_PAGES.search(name or ""):
            continue
        if url.startswith("/api/") or per_route[name] >= PER_ROUTE:
            continue
        per_route[name] += 1
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Text()
        parser.feed(response.content.decode("utf-8", "replace"))
        results[url] = findings_in("\n".join(parser.parts), raw)
        queue.extend(link for link in parser.links if link not in seen)
    return results


def test_the_checks_catch_what_users_found():
    raw = {"in_review", "tax_paid_12m"}
    assert findings_in("状态：repaid", raw) == ["repaid"]
    assert "True" in findings_in("已认证：True", raw)
    assert findings_in("分箱 [0.032821, 0.993024)", raw) == ["[0.032821, 0.993024)"]
    assert findings_in("分箱 [2.5, +∞)", raw) == ["[2.5, +∞)"]
    assert "in_review" in findings_in("draft → in_review", raw)
    assert findings_in("近12个月纳税额不低于3.2万元；AUC 0.85；PDF 报告", raw) == []
    assert findings_in("编号 XR2026000123，loan_officer@example.cn", raw) == []
    page = _Text()
    page.feed(
        '<p title="Forbidden">账号 <code>loan_officer</code> <span translate="no">golmud</span>'
        '<script>var x = "repaid";</script> 已还清 repaid</p>'
    )
    assert findings_in("\n".join(page.parts), raw) == ["Forbidden", "repaid"]


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    from django.core.management import call_command

    from xinrong.web.seed import seed

    with django_db_blocker.unblock():
        seed(scale="demo", seed_value=11)
        yield
        call_command("flush", "--noinput")


@pytest.mark.parametrize("login", [d.username for d in DEMO_USERS])
def test_every_page_reads_in_plain_chinese(demo_world, login):
    client = Client()
    assert client.login(username=login, password=DEMO_PASSWORD)
    results = walk(client)
    assert len(results) >= 5, f"{login} reached only {sorted(results)}"
    bad = {url: sorted(set(words)) for url, words in results.items() if words}
    assert not bad, f"{login}: raw or English words on pages:\n" + "\n".join(
        f"  {url}: {', '.join(words[:12])}" for url, words in sorted(bad.items())
    )
