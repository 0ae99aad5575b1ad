"""Issue 16 part A as its users meet it, in a real Chromium, each page at 1366 and 390 px.

On the seeded demo world: the demo enterprise (``ent_owner``) opens its home page, follows a
"去评价" link of the 融资评价 card, first submits the form half-filled (every missing item is
named at once), then rates the bank 5 on every item. The league table then shows the bank's
reputation moved exactly as computed by hand from the ratings before:
``(5 × C + Σ) / (5 + n)`` with C the platform mean, and its rank among the others.
Screenshots are kept under ``/tmp/journey-issue16-ratings/``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.db.models import Count, Sum

from xinrong.evaluations.models import Rating
from xinrong.marketplace.models import Loan
from xinrong.web.tests.journey_support import Person, demo_site_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

demo_site = demo_site_fixture()

ISSUE = "issue16-ratings"
CENT = Decimal("0.01")


def expected_scores() -> dict[int, Decimal]:
    """Every institution's Bayesian score, computed here from the raw totals (m = 5)."""
    rows = list(
        Rating.objects.filter(status="active", direction="of_institution")
        .order_by()
        .values("institution_id")
        .annotate(n=Count("id"), s=Sum("composite"))
    )
    n_all = sum(r["n"] for r in rows)
    c = sum(Decimal(r["s"]) for r in rows) / n_all
    return {
        r["institution_id"]: ((5 * c + Decimal(r["s"])) / (5 + r["n"])).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        for r in rows
    }


def league_row(p: Person, institution_id: int) -> tuple[int, Decimal] | None:
    row = p.page.locator(f"#league-table tr[data-institution='{institution_id}']")
    if row.count() == 0:
        return None
    rank = int(row.first.get_attribute("data-rank") or 0)
    score = Decimal(row.first.locator("[data-score]").inner_text().strip())
    return rank, score


def test_enterprise_rates_its_bank_and_the_league_table_moves(browser: Any, demo_site: str):
    firm = Person(browser, demo_site, "ent_owner", issue=ISSUE)
    try:
        firm.look("01-home")
        link = firm.page.locator("#wb-pending-ratings a[data-rate-link]").first
        loan_pk = int(link.locator("xpath=ancestor::tr").get_attribute("data-loan") or 0)
        loan = Loan.objects.select_related("institution").get(pk=loan_pk)
        before = expected_scores()
        firm.menu("机构评价排行")
        firm.look("02-league-before")
        shown = league_row(firm, loan.institution_id)
        if loan.institution_id in before:
            assert shown is not None and shown[1] == before[loan.institution_id]
        firm.click("header a.navbar-brand")
        firm.click("#wb-pending-ratings a[data-rate-link]")
        firm.look("03-rate-form")
        assert loan.institution.name in firm.page.locator("main h1").inner_text()
        # half-filled: the three missing items are named at once, nothing is written
        firm.page.check("input[name=speed][value='5']")
        with firm.page.expect_navigation():
            firm.page.click("#rating-submit")
        body = str(firm.page.locator("main").inner_text())
        for item in ("利率水平", "产品创新", "服务满意度"):
            assert f"{item}：请打分" in body
        firm.errors.clear()  # the 400 of the half-filled form is the expected answer
        firm.look("04-rate-errors")
        for item in ("speed", "interest", "innovation", "service"):
            firm.page.check(f"input[name={item}][value='5']")
        firm.click("#rating-submit")
        firm.look("05-rated")
        assert firm.page.locator("#rating-composite").inner_text().strip() == "5.00"
        after = expected_scores()
        ranked = sorted(after.items(), key=lambda kv: -kv[1])
        firm.menu("机构评价排行")
        firm.look("06-league-after")
        rank, score = league_row(firm, loan.institution_id) or (0, Decimal(0))
        assert score == after[loan.institution_id]
        assert score != before.get(loan.institution_id)
        higher = sum(1 for _iid, s in ranked if s > score)
        assert higher + 1 <= rank <= higher + sum(1 for _i, s in ranked if s == score)
    finally:
        firm.close()
