"""免申即享: draw the list from eligible matches, exclude with reasons, confirm all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.notifications.models import Notification
from xinrong.policies.choices import AutoListStatus, Delivery, GrantSource
from xinrong.policies.models import AutoGrantEntry, AutoListEvent, Grant
from xinrong.policies.services import auto_grant, budget
from xinrong.policies.tests.funds_support import eligible, enterprise, world

pytestmark = pytest.mark.django_db


def _auto(**kw):
    kw.setdefault("delivery", Delivery.AUTOMATIC)
    kw.setdefault("amount", Decimal("5000.00"))
    w = world(**kw)
    owners = [enterprise(300 + i) for i in range(3)]
    for o in owners:
        eligible(w.measure, o.organisation.market_entity, estimated=Decimal("9999.99"))
    return w, owners


def test_draw_exclude_confirm_grants_and_tells(django_capture_on_commit_callbacks):
    w, owners = _auto()
    drawn = auto_grant.auto_list_draw(measure=w.measure, actor=w.publisher)
    entries = list(drawn.entries.order_by("id"))
    assert [e.amount for e in entries] == [Decimal("5000.00")] * 3  # the fixed amount
    with pytest.raises(ApplicationError):  # a reason is required
        auto_grant.auto_entry_exclude(
            auto_list=drawn, entry=entries[0], actor=w.publisher, reason=""
        )
    auto_grant.auto_entry_exclude(
        auto_list=drawn, entry=entries[0], actor=w.publisher, reason="已享受同类补贴"
    )
    with django_capture_on_commit_callbacks(execute=True):
        auto_grant.auto_list_confirm(auto_list=drawn, actor=w.publisher)
    drawn.refresh_from_db()
    assert drawn.status == AutoListStatus.CONFIRMED and drawn.confirmed_by == w.publisher
    grants = Grant.objects.filter(measure=w.measure)
    assert grants.count() == 2 and {g.source for g in grants} == {GrantSource.AUTOMATIC}
    assert budget.budget_use(measure=w.measure).committed == Decimal("10000.00")
    excluded_owner = owners[0]
    told = Notification.objects.filter(kind="policies.auto_granted")
    assert set(told.values_list("recipient_id", flat=True)) == {o.pk for o in owners[1:]}
    assert "已为您兑现" in told.first().title and excluded_owner.pk not in told.values_list(
        "recipient_id", flat=True
    )
    kinds = list(AutoListEvent.objects.filter(auto_list=drawn).values_list("kind", flat=True))
    assert kinds == ["drawn", "excluded", "confirmed"]
    # a new list leaves out those already granted
    again = auto_grant.auto_list_draw(measure=w.measure, actor=w.publisher)
    assert list(again.entries.values_list("entity_id", flat=True)) == [
        owners[0].organisation.market_entity.pk
    ]


def test_estimated_amount_capped_and_unknown_excluded():
    w = world(delivery=Delivery.AUTOMATIC, amount=None, cap=Decimal("8000.00"))
    a, b, c = (enterprise(320 + i).organisation.market_entity for i in range(3))
    eligible(w.measure, a, estimated=Decimal("12000.00"))
    eligible(w.measure, b, estimated=Decimal("3000.50"))
    eligible(w.measure, c, estimated=None)
    drawn = auto_grant.auto_list_draw(measure=w.measure, actor=w.publisher)
    rows = {e.entity_id: e for e in AutoGrantEntry.objects.filter(auto_list=drawn)}
    assert rows[a.pk].amount == Decimal("8000.00") and not rows[a.pk].excluded
    assert rows[b.pk].amount == Decimal("3000.50")
    assert rows[c.pk].excluded and "无法测算" in rows[c.pk].exclusion_reason
    with pytest.raises(ApplicationError):
        auto_grant.auto_entry_include(auto_list=drawn, entry=rows[c.pk], actor=w.publisher)


def test_confirm_past_budget_is_refused_whole():
    w, _owners = _auto(budget=Decimal("12000.00"))
    drawn = auto_grant.auto_list_draw(measure=w.measure, actor=w.publisher)
    with pytest.raises(ConflictError) as exc:
        auto_grant.auto_list_confirm(auto_list=drawn, actor=w.publisher)
    assert exc.value.code == "budget_exceeded" and "15,000.00" in exc.value.message
    assert not Grant.objects.filter(measure=w.measure).exists()
    drawn.refresh_from_db()
    assert drawn.status == AutoListStatus.DRAFT
    first = drawn.entries.order_by("id").first()
    auto_grant.auto_entry_exclude(
        auto_list=drawn, entry=first, actor=w.publisher, reason="预算不足"
    )
    auto_grant.auto_list_confirm(auto_list=drawn, actor=w.publisher)
    assert budget.budget_use(measure=w.measure).left == Decimal("2000.00")


def test_only_the_department_manages_and_only_automatic_measures():
    w, _owners = _auto()
    other = world()
    with pytest.raises(PermissionDeniedError):
        auto_grant.auto_list_draw(measure=w.measure, actor=other.publisher)
    with pytest.raises(ConflictError):
        auto_grant.auto_list_draw(measure=other.measure, actor=other.publisher)
    drawn = auto_grant.auto_list_draw(measure=w.measure, actor=w.publisher)
    with pytest.raises(ConflictError):  # one open list at a time
        auto_grant.auto_list_draw(measure=w.measure, actor=w.publisher)
    with pytest.raises(PermissionDeniedError):
        auto_grant.auto_list_confirm(auto_list=drawn, actor=other.publisher)
    auto_grant.auto_list_discard(auto_list=drawn, actor=w.publisher, note="条件有误")
    drawn.refresh_from_db()
    assert drawn.status == AutoListStatus.DISCARDED
    assert not Grant.objects.exists()


def test_finance_pays_an_automatic_grant_and_the_firm_is_told(django_capture_on_commit_callbacks):
    from xinrong.policies.services.funds import grant_pay

    w, _owners = _auto()
    drawn = auto_grant.auto_list_draw(measure=w.measure, actor=w.publisher)
    auto_grant.auto_list_confirm(auto_list=drawn, actor=w.publisher)
    grant = Grant.objects.filter(measure=w.measure).first()
    with pytest.raises(PermissionDeniedError):
        grant_pay(grant=grant, actor=w.publisher, voucher_no="X1")
    with django_capture_on_commit_callbacks(execute=True):
        paid = grant_pay(grant=grant, actor=w.finance, voucher_no="CZ-9")
    assert paid.status == "disbursed"
    assert Notification.objects.filter(kind="policies.grant_disbursed").count() == 1
