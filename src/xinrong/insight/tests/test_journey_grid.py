"""The 甘霖 grid programme as its people meet it, in a real Chromium.

On the seeded demo world: the community field officer (``grid_community``, 东关大街街道) logs in on
a 390 px phone, opens 登记走访 from its home page, sends the form half filled (every missing thing
is named at once), then records a visit to a shop in 北关社区 whose owner agrees to a credit file,
builds the file with the USCC from the business licence, and sees its home count the visit and
the file. The operator's gap report at 1366 px counts one more visit and one more file for the
officer, and the total row agrees with the rows.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from xinrong.reference import uscc as uscc_codec
from xinrong.web.tests.journey_support import DESKTOP, PHONE, Visit, demo_site_fixture, figure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

demo_site = demo_site_fixture()

BEIGUAN = "630102001001"
SHOP = "马记手抓羊肉馆（北关）"


def officer_row(p: Visit) -> tuple[int, int]:
    """(visits, files) of grid_community's row of the gap report by officer."""
    row = p.page.locator("#gap-report tbody tr", has_text="东关大街").first
    return (
        figure(row.locator("[data-visits]").inner_text()),
        figure(row.locator("[data-files]").inner_text()),
    )


def totals(p: Visit) -> tuple[int, int]:
    total = p.page.locator("#gap-total")
    return figure(total.locator("[data-visits]").inner_text()), figure(
        total.locator("[data-files]").inner_text()
    )


def rows_sum(p: Visit) -> tuple[int, int]:
    visits = p.page.locator("#gap-report tbody [data-visits]").all_inner_texts()
    files = p.page.locator("#gap-report tbody [data-files]").all_inner_texts()
    return sum(figure(v) for v in visits), sum(figure(f) for f in files)


def test_a_field_officer_records_a_visit_on_a_phone_and_the_report_counts_it(
    browser: Any, demo_site: str
) -> None:
    base = demo_site
    office = Visit(browser, base, "operator", DESKTOP, role="grid-operator")
    officer = Visit(browser, base, "grid_community", PHONE, role="grid-officer")
    try:
        office.menu("走访建档缺口")
        office.look("01-gap-report")
        before = officer_row(office)
        assert totals(office) == rows_sum(office)

        officer.look("01-home")
        week0 = figure(officer.text("[data-stat=week]"))
        files0 = figure(officer.text("[data-stat=files]"))
        officer.click("#wb-visit-new")
        officer.look("02-visit-form")
        officer.page.check("#id_result_1")  # 拒绝, without a reason or a merchant
        officer.click("#visit-form button[type=submit]")
        errors = officer.look("03-visit-errors")
        for message in ("商户名称：必填", "社区/村：请选择到社区或村一级", "拒绝或未遇到时必选"):
            assert message in errors
        officer.page.fill("#id_merchant_name", SHOP)
        officer.page.select_option("#id_division_code", BEIGUAN)
        officer.page.fill("#id_address", "北关街 36 号")
        officer.page.check("#id_result_0")  # 已建档意向
        officer.page.check("#id_consent_0")  # 同意
        officer.click("#visit-form button[type=submit]")
        detail = officer.look("04-visit-recorded")
        assert SHOP in detail and "同意（" in detail
        code = uscc_codec.generate(random.Random(4242), division_code="630102", entity_type="2")
        officer.page.fill("#id_uscc", code)
        officer.click("#file-form button[type=submit]")
        built = officer.look("05-file-built")
        assert "建档" in officer.text("#file-built") and code in built
        officer.click("header a.navbar-brand")
        officer.look("06-home-after")
        assert figure(officer.text("[data-stat=week]")) == week0 + 1
        assert figure(officer.text("[data-stat=files]")) == files0 + 1

        office.page.reload()
        office.look("02-gap-report-after")
        after = officer_row(office)
        assert after == (before[0] + 1, before[1] + 1)
        assert totals(office) == rows_sum(office)
        office.click("#groupings a[data-by=week]")
        office.look("03-gap-by-week")
        assert totals(office) == rows_sum(office)
    finally:
        officer.close()
        office.close()
