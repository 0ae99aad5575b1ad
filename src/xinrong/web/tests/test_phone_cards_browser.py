"""One phone-card mechanism for every table (web/static/xinrong/xinrong.css + xinrong.js).

At 390 px, lists and the loan page (its repayment schedule) show each row as a card: no page is
wider than the window, no table scrolls sideways inside its box, every header row is hidden and
every cell is labelled with its column. The lists' former second mechanism (lists.css/lists.js,
class xr-cards) is gone; the filters fold behind the "筛选条件" button. Screenshots go to
/tmp/shots-unify/ (or $XINRONG_SHOTS).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.marketplace import matching
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_in
from xinrong.marketplace.tests.test_applications import _build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("XINRONG_SHOTS", "/tmp/shots-unify"))  # noqa: S108 (screenshots only)

TABLES_JS = """() => {
  const out = {wide: [], headers: [], unlabelled: []};
  document.querySelectorAll('main .table-responsive').forEach(box => {
    if (box.scrollWidth > box.clientWidth + 1) out.wide.push(box.innerHTML.slice(0, 80));
  });
  document.querySelectorAll('main table.table').forEach(table => {
    if (table.closest('.xr-table-keep') || !table.tHead) return;
    const head = table.tHead.getBoundingClientRect();
    if (head.height > 1) out.headers.push(table.id || table.className);
    table.querySelectorAll('tbody td').forEach(td => {
      if (td.colSpan === 1 && !td.hasAttribute('data-label')) out.unlabelled.push(table.id);
    });
  });
  return out;
}"""


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "institution_admin": make_user("bank", ["institution_admin"], org=org),
    }


def test_lists_and_the_loan_page_are_cards_at_390_px(
    browser, live_server, enterprise_user, bank, operator
):
    entity = enterprise_user.organisation.market_entity
    app = _build("repaying", enterprise_user, entity, bank, operator)
    demand_services.demand_publish(
        actor=enterprise_user,
        entity=common_selectors.user_entity(user=enterprise_user),
        data=demand_in(amount="1234567.89"),
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    pages = {
        "applications": "/marketplace/applications/",
        "products": "/marketplace/",
        "demands": "/marketplace/demands/",
        "loan": f"/marketplace/applications/{app.pk}/",
    }
    for lang in ("zh-hans", "en"):
        context = browser.new_context(viewport={"width": 390, "height": 900}, is_mobile=True)
        page = context.new_page()
        try:
            browser_login(page, base, enterprise_user.username)
            context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
            for name, url in pages.items():
                page.goto(base + url)
                where = f"{name} {lang}"
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, (where, overflow)
                found = page.evaluate(TABLES_JS)
                assert found == {"wide": [], "headers": [], "unlabelled": []}, (where, found)
                assert page.locator("link[href*='lists.css'], script[src*='lists.js']").count() == 0
                assert page.locator("table.xr-cards").count() == 0, where
                page.screenshot(path=str(SHOTS / f"cards-{name}-390-{lang}.png"), full_page=True)
            # the schedule is cards too: one labelled card per instalment
            page.goto(base + pages["loan"])
            cell = page.locator("#schedule tbody tr").first.locator("td").nth(2)
            assert cell.get_attribute("data-label")
            # the list's filters fold behind their button on a phone, and open from it
            page.goto(base + pages["applications"])
            form = page.locator("#list-filters")
            if form.count():
                assert not form.is_visible()
                page.click("[data-filter-toggle]")
                form.wait_for(state="visible")
        finally:
            context.close()
