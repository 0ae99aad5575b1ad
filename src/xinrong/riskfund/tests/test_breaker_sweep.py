"""The circuit breaker: the sweep records each change of standing once and tells the institution
once; the operator's board (tripped first) and the institution's own page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from xinrong.notifications.models import Notification
from xinrong.riskfund.models import BreakerEvent
from xinrong.riskfund.selectors.rules import breaker_card
from xinrong.riskfund.services.rules import breaker_sweep
from xinrong.riskfund.tests.factories import fund_world, platform_loan

pytestmark = pytest.mark.django_db


def world(make_user, django_capture_on_commit_callbacks=None):
    w = fund_world(make_user, breaker_threshold=Decimal("10.00"))
    # bank: 1,000,000 defaulted of 5,000,000 outstanding → 20% > 10%
    bad = platform_loan(w.bank, w.officer, w.product, principal="1000000.00")
    for _ in range(2):
        platform_loan(w.bank, w.officer, w.product, principal="2000000.00", status="active")
    other = make_user("bank", ["loan_officer"])
    platform_loan(other.organisation, other, w.product, principal="1000000.00", status="active")
    return w, bad, other


def test_a_trip_is_recorded_and_told_once_and_a_reset_too(
    make_user, django_capture_on_commit_callbacks
):
    w, bad, other = world(make_user)
    with django_capture_on_commit_callbacks(execute=True):
        counts = breaker_sweep()
    assert counts["tripped"] == 1 and counts["reset"] == 0
    event = BreakerEvent.objects.get()
    assert event.institution == w.bank and event.state == "tripped"
    assert event.ratio == Decimal("20.00") and event.threshold == Decimal("10.00")
    notes = Notification.objects.filter(kind="riskfund.breaker")
    assert {n.recipient_id for n in notes} == {w.officer.pk} | {u.pk for u in w.bank.users.all()}
    assert "补偿暂停" in notes.first().title and "20.00%" in notes.first().title
    sent = notes.count()
    # nothing changed: nothing written, nobody told again
    with django_capture_on_commit_callbacks(execute=True):
        assert breaker_sweep()["tripped"] == 0
    assert BreakerEvent.objects.count() == 1
    assert Notification.objects.filter(kind="riskfund.breaker").count() == sent
    # the bank settles the bad loan: the breaker resets, once
    bad.status = "settled"
    bad.outstanding = Decimal("0")
    bad.save(update_fields=["status", "outstanding"])
    with django_capture_on_commit_callbacks(execute=True):
        counts = breaker_sweep()
    assert counts["reset"] == 1
    last = BreakerEvent.objects.order_by("-at", "-id").first()
    assert last.state == "reset" and last.ratio == Decimal("0.00")
    assert Notification.objects.filter(kind="riskfund.breaker").count() == sent * 2
    assert not BreakerEvent.objects.filter(institution=other.organisation).exists()


def test_the_board_shows_tripped_first_and_the_institution_its_own(client, make_user):
    w, _bad, other = world(make_user)
    breaker_sweep()
    client.force_login(w.office)
    page = client.get(reverse("riskfund:breakers"))
    assert page.status_code == 200
    rows = page.context["boards"][0].rows
    assert [r.breaker.institution_id for r in rows] == [w.bank.pk, other.organisation_id]
    assert rows[0].tripped and rows[0].gap == Decimal("-10.00")
    text = page.content.decode()
    assert "高出熔断线 10.00 个百分点" in text and "暂停补偿" in text
    # the bank's own page: suspended, how far, what it means, its history
    client.force_login(w.officer)
    text = client.get(reverse("riskfund:my_breaker")).content.decode()
    assert "补偿暂停" in text and "不良率 20.00%，高于熔断线 10%" in text
    assert "不良贷款再减少约 500,000.00 元" in text.replace("不良贷款余额再减少", "不良贷款再减少")
    assert other.organisation.name not in text
    card = breaker_card(w.officer)
    assert card["tripped"] == 1 and card["standings"][0].fund == w.fund
    # the other bank is fine and far from the line
    client.force_login(other)
    text = client.get(reverse("riskfund:my_breaker")).content.decode()
    assert "补偿正常" in text and "还差 10.00 个百分点" in text
    assert breaker_card(other)["tripped"] == 0
    # a bank reads no board; finance of the fund's manager does
    assert client.get(reverse("riskfund:breakers")).status_code == 403
    client.force_login(w.finance)
    assert client.get(reverse("riskfund:breakers")).status_code == 200
    assert client.get(reverse("riskfund:my_breaker")).status_code == 403


def test_a_sub_station_sees_only_its_fund_and_an_enterprise_nothing(
    client, make_user, enterprise_user
):
    province = fund_world(make_user)
    golmud = fund_world(make_user, division_code="632801")
    station = make_user("substation", ["operator_admin"], region_code="632801")
    client.force_login(station)
    boards = client.get(reverse("riskfund:breakers")).context["boards"]
    assert [b.fund for b in boards] == [golmud.fund]
    del province
    client.force_login(enterprise_user)
    assert client.get(reverse("riskfund:breakers")).status_code == 403
    assert client.get(reverse("riskfund:my_breaker")).status_code == 403
    assert breaker_card(enterprise_user) is None
