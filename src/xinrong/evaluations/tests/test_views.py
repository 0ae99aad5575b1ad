"""The pages of 融资评价: rate from home/pending, errors at once (400), league, appeals, slot."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from xinrong.evaluations.models import Rating
from xinrong.evaluations.services.ratings import rating_submit
from xinrong.evaluations.tests.factories import borrower, lender, loan

pytestmark = pytest.mark.django_db


def client_of(user):
    c = Client()
    c.force_login(user)
    return c


def test_enterprise_rates_from_home_and_sees_errors_at_once(make_user):
    a = lender(make_user, name="甲银行")
    e = borrower(make_user)
    ln = loan(a, e)
    c = client_of(e.user)
    home = c.get(reverse("web:home")).content.decode()
    url = reverse("evaluations:rate", args=[ln.pk, "disbursed"])
    assert url in home
    bad = c.post(url, {"speed": "5"})
    assert bad.status_code == 400
    body = bad.content.decode()
    for word in ("利率水平：请打分", "产品创新：请打分", "服务满意度：请打分"):
        assert word in body
    ok = c.post(url, {"speed": "5", "interest": "4", "innovation": "4", "service": "5"})
    assert ok.status_code == 302
    rating = Rating.objects.get(loan=ln)
    assert str(rating.composite) == "4.50"
    again = c.post(url, {"speed": "5", "interest": "4", "innovation": "4", "service": "5"})
    assert again.status_code == 409
    league = c.get(reverse("evaluations:league")).content.decode()
    assert "甲银行" in league and "4.50" in league


def test_pages_refuse_strangers_and_league_is_open(make_user):
    a = lender(make_user)
    e = borrower(make_user)
    ln = loan(a, e)
    r = rating_submit(
        actor=e.user,
        loan=ln,
        stage="disbursed",
        scores={"speed": 1, "interest": 1, "innovation": 1, "service": 1},
    )
    other_bank = lender(make_user).officer
    c = client_of(other_bank)
    assert c.get(reverse("evaluations:rate", args=[ln.pk, "disbursed"])).status_code == 403
    assert c.get(reverse("evaluations:rating_detail", args=[r.pk])).status_code == 404
    assert c.get(reverse("evaluations:league")).status_code == 200
    assert c.get(reverse("evaluations:appeals")).status_code == 200  # empty, its own
    gov = make_user("government", ["data_provider"])
    assert client_of(gov).get(reverse("evaluations:league")).status_code == 200
    assert client_of(gov).get(reverse("evaluations:pending")).status_code == 403
    # the rated bank appeals through the page; the operator decides it
    bank = client_of(a.officer)
    assert (
        bank.post(reverse("evaluations:appeal_new", args=[r.pk]), {"reason": ""}).status_code == 400
    )
    resp = bank.post(reverse("evaluations:appeal_new", args=[r.pk]), {"reason": "评价不实"})
    assert resp.status_code == 302
    op = client_of(make_user("operator", ["operator_admin"]))
    detail = resp.url
    assert "处理申诉" in op.get(detail).content.decode()
    assert op.post(detail, {"action": "uphold", "note": ""}).status_code == 400
    assert op.post(detail, {"action": "uphold", "note": "核实属实"}).status_code == 302
    r.refresh_from_db()
    assert r.status == "withdrawn"
    assert op.get(reverse("evaluations:appeals_export")).status_code == 200
    assert op.get(reverse("evaluations:league_export")).status_code == 200


def test_loan_page_panel_offers_rating(make_user):
    a = lender(make_user)
    e = borrower(make_user)
    ln = loan(a, e, status="settled")
    page = client_of(e.user).get(
        reverse("marketplace:application_detail", args=[ln.application_id])
    )
    body = page.content.decode()
    assert 'id="loan-ratings"' in body
    assert reverse("evaluations:rate", args=[ln.pk, "settled"]) in body
