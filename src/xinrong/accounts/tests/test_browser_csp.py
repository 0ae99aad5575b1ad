"""Under the Content-Security-Policy pages, charts and htmx still work, with no violation."""

from decimal import Decimal

import pytest

from conftest import PASSWORD
from xinrong.accounts.tests.support import browser_login, browser_second_step, second_factor_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '')
                    + ':' + (e.lineNumber || ''));
});
"""


def _watch(page):
    problems: list[str] = []
    page.add_init_script(WATCH)

    def on_console(msg):
        where = (msg.location or {}).get("url", "")
        if where.endswith("/favicon.ico"):
            return  # the browser's own guess at an icon the platform does not have
        if msg.type == "error" or "Content Security Policy" in msg.text:
            problems.append(f"{msg.text} @ {where}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_operator_pages_charts_docs_and_admin_work_under_the_policy(
    page, live_server, make_user, db
):
    from xinrong.accounts.models import User
    from xinrong.credit.models import ScoreModel
    from xinrong.credit.tests.test_scoring import _card
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    MarketEntityFactory(division_code="630102")
    ScoreModel.objects.create(version=1, name="测试卡", card=_card().to_json())
    make_user("operator", ["operator_admin"], username="op", is_staff=True)
    User.objects.create_superuser("root", "root@example.cn", PASSWORD)
    problems = _watch(page)
    base = live_server.url

    browser_login(page, base, "op")
    assert page.locator("h1").first.inner_text().startswith("运营驾驶舱")
    page.wait_for_selector("[id^=chart] canvas, .xr-chart canvas", timeout=10000)
    # htmx is loaded and injected no <style> (its indicator CSS is served as a file)
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    for path in ("/accounts/organisations/", "/accounts/security-log/", "/credit/models/"):
        page.goto(base + path)
        assert page.locator("h1").first.is_visible(), path
    page.goto(f"{base}/credit/models/1/")
    page.wait_for_selector("canvas", timeout=10000)
    # the language switch still submits itself (no inline onchange)
    page.goto(f"{base}/accounts/security-log/")
    with page.expect_navigation():
        page.select_option("#language-form select", "en")
    assert page.evaluate("document.documentElement.lang") == "en"
    with page.expect_navigation():
        page.select_option("#language-form select", "zh-hans")
    page.goto(f"{base}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
    assert _violations(page) == [] and problems == [], (_violations(page), problems)

    # the superuser reaches the admin through the one login page
    page.context.clear_cookies()
    second_factor_ready("root")
    page.goto(f"{base}/admin/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-button")
    browser_second_step(page, "root")
    assert page.url.rstrip("/").endswith("/admin")
    page.goto(f"{base}/admin/accounts/securityevent/")
    assert page.locator("#result_list").is_visible()
    assert _violations(page) == [] and problems == [], (_violations(page), problems)


def test_enterprise_graph_and_portrait_draw_under_the_policy(page, live_server, enterprise_user):
    from xinrong.enterprises.services import relationship_add
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    base = live_server.url
    entity = enterprise_user.organisation.market_entity
    partner = MarketEntityFactory(name="互保伙伴有限公司")
    relationship_add(
        entity=partner, kind="guarantor", holder_entity=entity, guaranteed_amount=Decimal("1000")
    )
    problems = _watch(page)
    browser_login(page, base, enterprise_user.username)
    page.goto(f"{base}/credit/graph/{entity.uscc}/")
    page.wait_for_selector("#graph-chart canvas", timeout=10000)
    page.goto(f"{base}/credit/portrait/")
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/accounts/security-log/")
    assert "账号操作记录" in page.locator("nav").inner_text()
    assert _violations(page) == [] and problems == [], (_violations(page), problems)


def test_revoking_a_key_still_asks_first(page, live_server, make_user):
    from xinrong.accounts.models import ApiKey
    from xinrong.accounts.services.api_keys import api_key_create

    admin = make_user("bank", ["institution_admin"], username="bank_admin")
    api_key_create(organisation=admin.organisation, name="信贷系统", actor=admin)
    problems = _watch(page)
    browser_login(page, live_server.url, "bank_admin")
    page.goto(f"{live_server.url}/accounts/api-keys/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("form[data-confirm] button")
    page.wait_for_timeout(300)
    assert ApiKey.objects.get().revoked_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("form[data-confirm] button")
    assert ApiKey.objects.get().revoked_at is not None
    assert _violations(page) == [] and problems == [], (_violations(page), problems)
