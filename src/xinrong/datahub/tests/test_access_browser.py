"""Issue 10 in a real Chromium: each role is offered only what it may do, on desktop and phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _menu_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#mainnav a").all_text_contents()]


@pytest.mark.parametrize("width", [1366, 390])
def test_substation_and_auditor_see_the_hub_without_actions_they_may_not_take(
    browser, live_server, make_user, width
):
    from xinrong.datahub.models import UnresolvedRow
    from xinrong.datahub.services.ingest import batch_ingest
    from xinrong.datahub.tests.test_pipeline import _csv

    provider = make_user("government", ["data_provider"], username="tax_clerk")
    source = source_create(
        code="tax",
        name="国家税务总局青海省税务局",
        organisation=provider.organisation,
        categories=["tax"],
    )
    MarketEntityFactory(division_code="632801")
    batch_ingest(
        source=source,
        category="tax",
        fileobj=_csv([["", "简称公司", "2024-06", "100", "A", "0"]]),
        filename="t.csv",
        channel="upload",
        actor=provider,
    )
    assert UnresolvedRow.objects.count() == 1
    make_user("substation", ["operator_admin"], username="golmud", region_code="632801")
    make_user("operator", ["auditor"], username="auditor")
    Path("var/screens").mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        # the sub-station: the hub explains who uploads, no form, no other region's batch
        browser_login(page, live_server.url, "golmud")
        page.goto(f"{live_server.url}/datahub/")
        assert page.locator("#upload-form").count() == 0
        assert "数据由各部门的数据报送员上传" in page.locator("#no-upload").inner_text()
        assert "国家税务总局青海省税务局" not in page.content()
        page.screenshot(path=f"var/screens/issue10-golmud-hub-{width}.png", full_page=True)
        # the auditor: reads the queue, is offered no 关联/舍弃
        context.clear_cookies()
        browser_login(page, live_server.url, "auditor")
        page.goto(f"{live_server.url}/datahub/resolution/")
        assert "简称公司" in page.locator("#resolution-table").inner_text()
        assert page.locator("button[value=resolve]").count() == 0
        assert "由运营管理员处理" in page.locator("#resolution-table").inner_text()
        page.screenshot(path=f"var/screens/issue10-auditor-queue-{width}.png", full_page=True)
        assert "机构与账号" not in " ".join(_menu_labels(page))
    finally:
        context.close()


def test_a_logged_out_visitor_following_a_report_link_lands_on_the_login_page(page, live_server):
    page.goto(f"{live_server.url}/credit/report/file/SQ20260101000000AA")
    assert "/accounts/login/" in page.url
    assert page.locator("#login-button").count() == 1
