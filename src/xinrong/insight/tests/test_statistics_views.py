"""Statistics pages: who may see them, region scoping on the page, the Excel export's figures."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.insight.tests.test_statistics import book  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db
Q1 = {"date_from": "2026-01-01", "date_to": "2026-03-31"}


def _get(client, user, name, params=None, *args):
    client.force_login(user)
    return client.get(reverse(name, args=args), params or {})


def test_who_may_see(client, make_user, operator, gov_reviewer, bank_officer, enterprise_user):
    assert _get(client, operator, "insight:statistics").status_code == 200
    assert _get(client, gov_reviewer, "insight:statistics").status_code == 200
    assert _get(client, bank_officer, "insight:statistics").status_code == 403
    assert _get(client, enterprise_user, "insight:statistics").status_code == 403
    assert _get(client, bank_officer, "insight:statistics_export").status_code == 403
    bank = bank_officer.organisation_id
    assert _get(client, operator, "insight:statistics_institution", None, bank).status_code == 200
    # a department that is not the central bank's branch has no per-institution view
    assert (
        _get(client, gov_reviewer, "insight:statistics_institution", None, bank).status_code == 403
    )
    from xinrong.accounts.services.organisations import organisation_create

    pboc = organisation_create(name="中国人民银行青海省分行", kind="government")
    regulator = make_user("government", ["policy_publisher"], org=pboc)
    assert _get(client, regulator, "insight:statistics_institution", None, bank).status_code == 200
    # an enterprise is not an institution: no page
    ent_org = enterprise_user.organisation_id
    assert (
        _get(client, operator, "insight:statistics_institution", None, ent_org).status_code == 404
    )


def test_page_figures_and_drill(client, book, operator):  # noqa: F811
    page = _get(client, operator, "insight:statistics", {**Q1, "dim": "region"})
    html = page.content.decode()
    assert 'data-row="6301"' in html and 'data-drill="630100"' in html
    assert "380,000.00" in html  # the total disbursed in Q1 (hand-computed in test_statistics)
    page = _get(client, operator, "insight:statistics", {**Q1, "region": "630100"})
    html = page.content.decode()
    assert 'data-row="630102"' in html and 'data-row="6328' not in html


def test_substation_page_only_its_region(client, book, substation_operator):  # noqa: F811
    page = _get(client, substation_operator, "insight:statistics", {**Q1, "region": "630100"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-row="632801"' in html and 'data-row="630102"' not in html
    assert "50,000.00" in html and "380,000.00" not in html


def test_export_matches_the_page(client, book, operator):  # noqa: F811
    resp = _get(client, operator, "insight:statistics_export", Q1)
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    assert wb.sheetnames == ["按地区", "按金融机构", "按产品", "按行业", "按月份"]
    rows = list(wb["按月份"].iter_rows(values_only=True))
    assert rows[0][0] == "月份" and rows[0][10] == "放款笔数"
    total = rows[-1]
    assert total[0] == "合计" and total[10] == 4 and Decimal(str(total[11])) == Decimal("380000")
    assert [r[0] for r in rows[1:-1]] == ["2026年01月", "2026年02月", "2026年03月"]


def test_home_cards(client, book, operator, gov_reviewer, bank_officer):  # noqa: F811
    from xinrong.insight.selectors.statistics import statistics_card

    assert statistics_card(bank_officer) is None
    card = statistics_card(operator)
    assert card is not None and card["year"] == __import__("datetime").date.today().year
    from django.utils import timezone

    from xinrong.marketplace.models import Loan

    this_year = Loan.objects.filter(disbursed_on__year=timezone.localdate().year)
    assert card["loans"] == this_year.count() > 0
    for user in (operator, gov_reviewer):
        html = _get(client, user, "web:home").content.decode()
        assert 'id="wb-statistics"' in html and reverse("insight:statistics") in html
    assert 'id="wb-statistics"' not in _get(client, bank_officer, "web:home").content.decode()


def test_substation_institution_view_only_lenders_in_its_region(
    client,
    book,  # noqa: F811
    substation_operator,
):
    lender = book["p1"].institution_id  # lends in 格尔木 (632801)
    other = book["p2"].institution_id  # lends in 西宁 and 同仁 only
    page = _get(client, substation_operator, "insight:statistics_institution", Q1, lender)
    assert page.status_code == 200 and "50,000.00" in page.content.decode()
    page = _get(client, substation_operator, "insight:statistics_institution", Q1, other)
    assert page.status_code == 404
