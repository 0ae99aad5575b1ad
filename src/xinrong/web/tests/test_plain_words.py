"""Plain words on every page for every role: no internal value reaches a person.

The demo world is seeded once; each demo login then walks the platform as a person would, from
its home page along the links the pages offer (breadth first, a few URLs per route, bounded), and
every page's visible text is checked in the Chinese locale by ``common.tests.plain_words``: raw
choice values (``repaid``, ``in_review``), identifiers (``tax_paid_12m``, ``auc_train``), English
words outside a short allow-list (AUC, PSI, PDF, Excel …), ``True``/``False``/``None`` and
interval notation (``[0.032821, 0.993024)``, ``[2.5, +∞)``).

A finding names the role, the URL and the words, so the page to fix is one click away.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from xinrong.common.tests.plain_words import PageText, problems, text_problems
from xinrong.web.seed import DEMO_PASSWORD, DEMO_USERS

pytestmark = [pytest.mark.django_db]

# Routes a person does not read as a page (downloads, machine data, leaving the session).
NOT_PAGES = re.compile(
    r"(export|download|template|graph_data|errors|logout|set_language|openapi|healthz|evidence)"
)
PER_ROUTE = 2  # URLs tried per route name and role
PER_ROLE = 70  # pages per role


def _route(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def walk(client: Client, start: str = "/") -> dict[str, list[str]]:
    """Visit pages from ``start`` along their links; return the findings per URL."""
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
        page = PageText()
        page.feed(response.content.decode("utf-8", "replace"))
        results[url] = text_problems("\n".join(page.parts))
        queue.extend(link for link in page.links if link not in seen)
    return results


def test_the_checks_catch_what_users_found():
    def words(html: str) -> list[str]:
        return [p.split("：", 1)[1] for p in problems(html)]

    assert words("<p>状态：repaid</p>") == ["repaid"]
    assert words("<p>已认证：True</p>") == ["True"]
    assert words("<p>分箱 [0.032821, 0.993024)</p>") == ["[0.032821, 0.993024)"]
    assert words("<p>分箱 [2.5, +∞)</p>") == ["[2.5, +∞)"]
    assert words("<p>draft → in_review</p>") == ["draft", "in_review"]
    assert words("<p>特征 tax_paid_12m；auc_train 0.85</p>") == ["tax_paid_12m", "auc_train"]
    assert words("<p>近12个月纳税额不低于3.2万元；AUC 0.85；PDF 报告</p>") == []
    assert words("<p>编号 XR2026000123，DK-LATE-1，loan_officer@example.cn</p>") == []
    page = (
        '<p title="Forbidden">账号 <code>loan_officer</code> <span translate="no">golmud</span>'
        "<span data-free-text>客户说 hello</span>"
        '<script>var x = "repaid";</script> 已还清 repaid</p>'
    )
    assert words(page) == ["Forbidden", "repaid"]


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    from django.core.management import call_command

    from xinrong.web.tests.seeded import demo_world

    with django_db_blocker.unblock():
        demo_world(seed_value=11)
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
