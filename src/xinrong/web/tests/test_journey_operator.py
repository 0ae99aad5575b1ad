"""The operator's journey in a real Chromium, at 1366 and 390 px, on the seeded demo world.

From the home page's "需要处理的事项" the operator opens the products awaiting review and puts one
on the shelf, opens the data conflicts and resolves one, then reaches 机构与账号 from the menu (the
drawer on a phone) and edits an organisation. Each figure on the home page equals the list it
opens, and drops by one once the work is done. The Golmud sub-station looks briefly: its home is
about its region and its conflict figure equals its list. Every page is looked at by
``Visit.look`` (plain Chinese, nothing wider than the window, a screenshot).
"""

from __future__ import annotations

import pytest

from xinrong.web.tests.journey_support import WIDTHS, Visit, demo_site_fixture, figure

# django_db: the test database is created for these tests; each test runs in a transaction that
# is rolled back (on SQLite the live server shares the connection), the seeded world stays.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

demo_site = demo_site_fixture()


def _attention(v: Visit, key: str) -> int:
    return figure(v.text(f'#wb-attention [data-stat="{key}"]'))


def _open_attention(v: Visit, key: str) -> None:
    v.click(f'#wb-attention a:has([data-stat="{key}"])')


@pytest.mark.parametrize("width", WIDTHS)
def test_operator_reviews_a_product_resolves_a_conflict_and_edits_an_organisation(
    browser, demo_site, width
):
    v = Visit(browser, demo_site, "operator", width)
    v.look("home")
    assert "运营驾驶舱" in v.text("h1")
    waiting = _attention(v, "review")
    conflicts = _attention(v, "conflicts")
    assert waiting > 0 and conflicts > 0

    # products awaiting review: the list holds as many; one is put on the shelf
    _open_attention(v, "review")
    v.look("review-queue")
    rows = v.page.locator("#review-queue tbody tr[data-code]")
    assert rows.count() == waiting
    v.click("#review-queue tbody tr[data-code] a")
    v.look("product")
    v.page.fill("form:has(#approve) input[name=note]", "条款清晰，同意上架")
    v.click("#approve")
    main = v.look("product-approved")
    assert "已上架" in main, main[:500]
    v.home()
    assert _attention(v, "review") == waiting - 1

    # data conflicts: the list holds as many; one is explained and closed
    _open_attention(v, "conflicts")
    main = v.look("conflicts")
    assert f"共 {conflicts} 条" in main
    listed = v.page.locator("#conflict-table tbody tr[data-status='open']").count()
    assert listed == min(conflicts, 30)
    v.click("#conflict-table tbody tr[data-status='open'] a")
    v.look("conflict")
    v.page.check("#resolve-form input[name=outcome][value=explained]")
    v.page.fill("#resolve-form textarea[name=note]", "经核实，差额为劳务派遣人员，两方数据均属实")
    v.click("#resolve-button")
    v.look("conflict-resolved")
    assert "已说明" in v.text("#conflict-status")
    assert "劳务派遣" in v.text("#conflict-resolution")
    assert v.page.locator("main a:has-text('返回冲突列表')").count() == 1  # the way on
    v.home()
    assert _attention(v, "conflicts") == conflicts - 1

    # 机构与账号 from the menu: an organisation's contact is changed
    v.menu("机构与账号")
    v.look("organisations")
    v.click("main tbody a:has-text('青海银行')")
    v.look("organisation")
    v.click("#edit-organisation")
    v.look("organisation-edit")
    contact = f"信贷管理部 王经理（{width}）"
    v.page.fill("main form [name=contact]", contact)
    v.click("main form button[type=submit]")
    main = v.look("organisation-saved")
    assert contact in main, main[:500]
    assert v.page.locator("#edit-organisation").count() == 1  # edit again from here
    v.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_sub_station_sees_its_region_and_its_conflicts(browser, demo_site, width):
    v = Visit(browser, demo_site, "golmud", width)
    v.look("home")
    assert "格尔木" in v.text("h1")
    late = _attention(v, "late")
    if v.page.locator('#wb-attention [data-stat="conflicts"]').count():
        conflicts = _attention(v, "conflicts")
        _open_attention(v, "conflicts")
        v.look("conflicts")
        rows = v.page.locator("#conflict-table tbody tr[data-status='open']").count()
        assert rows == min(conflicts, 30)
        v.home()
    _open_attention(v, "late")
    v.look("late-applications")
    shown = v.page.locator("#applications tbody tr[data-number]").count()
    assert shown == min(late, 20)
    v.close()


def test_the_server_answers_six_people_loading_pages_at_once(demo_site):
    """The journeys' live server shares one in-memory SQLite connection among its request threads
    on SQLite; conftest lets one request use it at a time. Without that, six people reloading
    their home pages and the demand hall hung the server within a minute (and browser journeys in
    CI timed out waiting for a page)."""
    import concurrent.futures as cf
    import re

    import requests

    from xinrong.web.seed import DEMO_PASSWORD

    def logged_in(username: str) -> requests.Session:
        session = requests.Session()
        login = f"{demo_site}/accounts/login/"
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(login, timeout=30).text
        )
        assert token
        session.post(
            login,
            data={
                "username": username,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
            },
            headers={"Referer": login},
            timeout=30,
        )
        return session

    people = [logged_in(name) for name in ("golmud", "loan_officer", "operator") * 2]
    paths = ["/", "/marketplace/demands/hall/?purpose=working_capital", "/", "/"]

    def browse(i: int) -> list[int]:
        # a request left waiting 30 s raises here instead of hanging the run
        return [
            people[i].get(demo_site + paths[(i + k) % len(paths)], timeout=30).status_code
            for k in range(15)
        ]

    with cf.ThreadPoolExecutor(len(people)) as pool:
        codes = [code for codes in pool.map(browse, range(len(people))) for code in codes]
    assert len(codes) == 90
    assert set(codes) <= {200, 403}, sorted(set(codes))  # the hall is for institutions only
    assert codes.count(200) >= 66
