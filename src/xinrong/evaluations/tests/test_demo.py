"""The demo seeder: ratings on many loans, league tables that differ, appeals waiting, loans of
the demo enterprise and the demo bank left to rate; idempotent."""

from __future__ import annotations

import pytest

from xinrong.evaluations.demo import seed_ratings
from xinrong.evaluations.models import Rating, RatingAppeal
from xinrong.evaluations.selectors.ratings import league_table, pending_ratings
from xinrong.evaluations.tests.factories import borrower, lender, loan
from xinrong.marketplace.models import Loan, Reputation

pytestmark = pytest.mark.django_db


def test_seed_ratings(make_user):
    banks = [lender(make_user) for _ in range(3)]
    firms = [borrower(make_user) for _ in range(8)]
    demo_firm = firms[0]
    demo_firm.user.username = "ent_owner"
    demo_firm.user.save(update_fields=["username"])
    banks[0].officer.username = "loan_officer"
    banks[0].officer.save(update_fields=["username"])
    for i, f in enumerate(firms):
        for b in banks:
            loan(b, f, status="settled" if i % 2 else "current")
    loans_before = Loan.objects.count()
    got = seed_ratings(20221)
    assert got["ratings"] == Rating.objects.count() > 20
    # loans it makes for the demo firm to rate are counted (the seed report adds them)
    assert got["loans"] == Loan.objects.count() - loans_before
    assert Reputation.objects.filter(kind="institution").count() == 3
    assert len({r.score for r in league_table()}) > 1
    assert RatingAppeal.objects.filter(status="submitted").count() == got["appeals"] >= 1
    assert pending_ratings(demo_firm.user)
    assert pending_ratings(banks[0].officer)
    assert seed_ratings(20221) == {"ratings": 0, "appeals": 0, "loans": 0}
