"""Ratings, reputations (hand-computed Bayesian averages), appeals and who may do what."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.evaluations.choices import RatingStatus
from xinrong.evaluations.models import Rating, RatingAppeal
from xinrong.evaluations.selectors.ratings import league_table, pending_ratings
from xinrong.evaluations.services.ratings import appeal_decide, appeal_submit, rating_submit
from xinrong.evaluations.tests.factories import borrower, lender, loan
from xinrong.marketplace import matching
from xinrong.marketplace.models import Reputation
from xinrong.marketplace.selectors.reputation import institution_reputation_lookup

pytestmark = pytest.mark.django_db


def scores(speed, interest, innovation, service):
    return {"speed": speed, "interest": interest, "innovation": innovation, "service": service}


@pytest.fixture
def world(make_user):
    a = lender(make_user, name="甲银行")
    b = lender(make_user, name="乙银行")
    e1, e2, e3 = (borrower(make_user) for _ in range(3))
    return a, b, e1, e2, e3


def rate_three(world):
    a, b, e1, e2, e3 = world
    r1 = rating_submit(
        actor=e1.user, loan=loan(a, e1), stage="disbursed", scores=scores(5, 5, 5, 5)
    )
    r2 = rating_submit(
        actor=e2.user, loan=loan(a, e2), stage="disbursed", scores=scores(4, 4, 5, 5)
    )
    r3 = rating_submit(
        actor=e3.user, loan=loan(b, e3), stage="disbursed", scores=scores(3, 3, 3, 2)
    )
    return r1, r2, r3


def rep(org):
    return Reputation.objects.get(institution=org)


def test_composite_is_the_mean_and_reputation_the_bayesian_average(world):
    a, b, *_ = world
    r1, r2, r3 = rate_three(world)
    assert (r1.composite, r2.composite, r3.composite) == (
        Decimal("5.00"),
        Decimal("4.50"),
        Decimal("2.75"),
    )
    # C = (5 + 4.5 + 2.75) / 3 = 4.0833…, m = 5
    # 甲: (5 × 4.0833… + 9.5) / 7 = 4.2738… → 4.27; 乙: (5 × 4.0833… + 2.75) / 6 = 3.8611… → 3.86
    assert rep(a.org).score == Decimal("4.27")
    assert rep(a.org).count == 2
    assert rep(a.org).mean == Decimal("4.75")
    assert rep(a.org).items["speed"] == "4.50"
    assert rep(b.org).score == Decimal("3.86")
    assert not rep(a.org).badge  # only two ratings (a badge needs three)
    got = institution_reputation_lookup(np.array([a.org.pk, b.org.pk, 999999], dtype=np.int64))
    assert got.tolist() == pytest.approx([(4.27 - 1) / 4, (3.86 - 1) / 4, 0.5])
    assert matching.institution_reputation is matching.summary_reputation


def test_institution_rates_the_enterprise_on_its_two_items(world):
    a, _b, e1, *_ = world
    ln = loan(a, e1)
    r = rating_submit(
        actor=a.officer, loan=ln, stage="disbursed", scores={"timeliness": 5, "quality": 4}
    )
    assert r.direction == "of_enterprise"
    assert r.composite == Decimal("4.50")
    # one enterprise rated: C = 4.5, (5 × 4.5 + 4.5) / 6 = 4.50
    assert Reputation.objects.get(entity=e1.entity).score == Decimal("4.50")


def test_every_error_at_once_in_chinese(world):
    a, _b, e1, *_ = world
    ln = loan(a, e1)  # not settled
    with pytest.raises(ValidationError) as err:
        rating_submit(
            actor=e1.user,
            loan=ln,
            stage="settled",
            scores={"speed": 6, "interest": "", "innovation": "x"},
        )
    errors = err.value.message_dict
    assert set(errors) == {"stage", "speed", "interest", "innovation", "service"}
    assert "尚未结清" in errors["stage"][0]
    assert "1 到 5" in errors["speed"][0]
    assert "服务满意度" in errors["service"][0]
    assert not Rating.objects.exists()


def test_one_rating_per_side_per_stage_and_settled_stage(world):
    a, _b, e1, *_ = world
    ln = loan(a, e1, status="settled")
    rating_submit(actor=e1.user, loan=ln, stage="disbursed", scores=scores(4, 4, 4, 4))
    with pytest.raises(ConflictError):
        rating_submit(actor=e1.user, loan=ln, stage="disbursed", scores=scores(5, 5, 5, 5))
    rating_submit(actor=e1.user, loan=ln, stage="settled", scores=scores(5, 5, 5, 5))
    # the other side rates the same stage independently
    rating_submit(
        actor=a.officer, loan=ln, stage="disbursed", scores={"timeliness": 3, "quality": 3}
    )
    assert Rating.objects.filter(loan=ln).count() == 3


def test_strangers_may_not_rate(world, make_user):
    a, b, e1, e2, _e3 = world
    ln = loan(a, e1)
    for stranger in (b.officer, e2.user, make_user("operator", ["operator_admin"])):
        with pytest.raises(PermissionDeniedError):
            rating_submit(actor=stranger, loan=ln, stage="disbursed", scores=scores(1, 1, 1, 1))


def test_pending_lists_the_stages_still_to_rate(world):
    a, _b, e1, *_ = world
    current = loan(a, e1)
    settled = loan(a, e1, status="settled", disbursed_days_ago=200)
    got = {(p.loan.pk, p.stage) for p in pending_ratings(e1.user)}
    assert got == {(current.pk, "disbursed"), (settled.pk, "disbursed"), (settled.pk, "settled")}
    rating_submit(actor=e1.user, loan=settled, stage="settled", scores=scores(5, 5, 5, 5))
    got = {(p.loan.pk, p.stage) for p in pending_ratings(e1.user)}
    assert (settled.pk, "settled") not in got
    # the bank's own list is separate (its side has rated nothing)
    assert len(pending_ratings(a.officer)) == 3


def test_league_table_ranks_and_region_filter(world, make_user):
    _a, b, *_ = world
    rate_three(world)
    rows = league_table()
    assert [(r.rank, r.name, r.score, r.count) for r in rows] == [
        (1, "甲银行", Decimal("4.27"), 2),
        (2, "乙银行", Decimal("3.86"), 1),
    ]
    # a Golmud enterprise gives 乙 a 5: only that rating counts in 海西州 (C = 5 → 5.00)
    g = borrower(make_user, division_code="632801")
    rating_submit(actor=g.user, loan=loan(b, g), stage="disbursed", scores=scores(5, 5, 5, 5))
    haixi = league_table(region_prefix="6328")
    assert [(r.name, r.score) for r in haixi] == [("乙银行", Decimal("5.00"))]
    by_innovation = league_table(sort="innovation")
    assert by_innovation[0].name == "甲银行"


def test_badge_and_priority_placement(world, make_user):
    a, b, *_ = world
    for _i in range(3):
        e = borrower(make_user)
        rating_submit(actor=e.user, loan=loan(a, e), stage="disbursed", scores=scores(5, 5, 5, 5))
    e = borrower(make_user)
    rating_submit(actor=e.user, loan=loan(b, e), stage="disbursed", scores=scores(2, 2, 2, 2))
    # C = (15 + 2) / 4 = 4.25; 甲 (21.25 + 15) / 8 = 4.53 (3 ratings → badge); 乙 3.88
    assert rep(a.org).score == Decimal("4.53") and rep(a.org).badge
    assert rep(b.org).score == Decimal("3.88") and not rep(b.org).badge
    ids = np.array([b.org.pk, a.org.pk], dtype=np.int64)
    assert matching.institution_badges(ids).tolist() == [False, True]
    # the product supermarket marks 甲's product, not 乙's
    from django.test import Client
    from django.urls import reverse

    browser = Client()
    browser.force_login(e.user)
    page = browser.get(reverse("marketplace:list")).content.decode()
    rows = {
        code: page.split(f'data-code="{code}"', 1)[1].split("</tr>", 1)[0]
        for code in (a.product.code, b.product.code)
    }
    assert "data-badge" in rows[a.product.code] and "优质服务机构" in rows[a.product.code]
    assert "data-badge" not in rows[b.product.code]


def test_appeal_upheld_withdraws_the_rating_and_recomputes(world, make_user):
    a, b, *_ = world
    _r1, _r2, r3 = rate_three(world)
    operator = make_user("operator", ["operator_admin"])
    appeal = appeal_submit(actor=b.officer, rating=r3, reason="企业评价与事实不符：放款仅用 3 天")
    assert appeal.status == "submitted"
    with pytest.raises(ConflictError):
        appeal_submit(actor=b.officer, rating=r3, reason="再次申诉")
    with pytest.raises(ApplicationError) as err:
        appeal_decide(actor=operator, appeal=appeal, action="uphold", note="")
    assert err.value.status == 400 and "理由" in err.value.message
    appeal_decide(actor=operator, appeal=appeal, action="uphold", note="经核实，放款及时")
    r3.refresh_from_db()
    assert r3.status == RatingStatus.WITHDRAWN
    assert appeal.status == "upheld" and appeal.decided_by == operator
    assert [e.kind for e in appeal.events.order_by("id")] == ["submitted", "uphold"]
    # only 甲's two ratings count now: C = 4.75, (5 × 4.75 + 9.5) / 7 = 4.75
    assert rep(a.org).score == Decimal("4.75")
    assert not Reputation.objects.filter(institution=b.org).exists()
    with pytest.raises(ConflictError):
        appeal_decide(actor=operator, appeal=appeal, action="reject", note="重复处理")


def test_appeal_rejected_keeps_the_rating(world, make_user):
    _a, b, *_ = world
    *_, r3 = rate_three(world)
    operator = make_user("operator", ["operator_admin"])
    appeal = appeal_submit(actor=b.officer, rating=r3, reason="不公")
    appeal_decide(actor=operator, appeal=appeal, action="reject", note="评价属实")
    r3.refresh_from_db()
    assert r3.status == RatingStatus.ACTIVE
    assert rep(b.org).score == Decimal("3.86")


def test_only_the_rated_party_appeals_and_regional_operators_decide(world, make_user):
    a, b, e1, *_ = world
    *_, r3 = rate_three(world)
    e3_user = r3.rated_by
    with pytest.raises(PermissionDeniedError):  # the rater cannot appeal its own rating
        appeal_submit(actor=e3_user, rating=r3, reason="x")
    with pytest.raises(PermissionDeniedError):  # another bank cannot either
        appeal_submit(actor=a.officer, rating=r3, reason="x")
    appeal = appeal_submit(actor=b.officer, rating=r3, reason="不公")
    golmud = make_user("substation", ["operator_admin"], region_code="632801")
    with pytest.raises(PermissionDeniedError):  # 西宁 enterprise: not Golmud's region
        appeal_decide(actor=golmud, appeal=appeal, action="uphold", note="越权")
    assert not RatingAppeal.objects.restrict(golmud).exists()
    assert RatingAppeal.objects.restrict(b.officer).count() == 1
    assert not RatingAppeal.objects.restrict(a.officer).exists()
    assert RatingAppeal.objects.restrict(e3_user).count() == 1
    assert not RatingAppeal.objects.restrict(e1.user).exists()
    # Golmud sees and decides its own region's appeals
    g = borrower(make_user, division_code="632801")
    rg = rating_submit(actor=g.user, loan=loan(b, g), stage="disbursed", scores=scores(1, 1, 1, 1))
    ag = appeal_submit(actor=b.officer, rating=rg, reason="不公")
    assert list(RatingAppeal.objects.restrict(golmud)) == [ag]
    assert list(Rating.objects.restrict(golmud)) == [rg]
    appeal_decide(actor=golmud, appeal=ag, action="uphold", note="核实")
