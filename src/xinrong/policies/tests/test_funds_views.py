"""Pages of special funds and 免申即享: apply, review, approve, pay, follow; lists and grants."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from xinrong.policies.choices import Delivery, FundApplicationStatus
from xinrong.policies.models import FundApplication, Grant
from xinrong.policies.services import auto_grant
from xinrong.policies.tests.funds_support import eligible, enterprise, pdf, world

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_apply_review_approve_pay_through_the_pages():
    w = world()
    owner = enterprise(701)
    eligible(w.measure, owner.organisation.market_entity)
    ent = _client(owner)
    mine = ent.get("/policies/funds/mine/").content.decode()
    assert f'data-apply="{w.measure.pk}"' in mine and "暂无申请" in mine
    url = f"/policies/funds/apply/{w.measure.pk}/"
    page = ent.get(url).content.decode()
    assert "营业执照" in page and "项目申报书" in page
    bad = ent.post(url, {"requested": "99999999", "purpose": ""})
    body = bad.content.decode()
    assert bad.status_code == 422
    assert "请填写资金用途" in body and "请上传申报材料：营业执照" in body and "上限" in body
    assert not FundApplication.objects.exists()
    r = ent.post(
        url,
        {
            "requested": "20000",
            "purpose": "购置设备",
            "material_0": pdf("执照.pdf"),
            "material_1": pdf("申报书.pdf"),
        },
    )
    app = FundApplication.objects.get()
    assert r.status_code == 302 and r.url == f"/policies/funds/{app.pk}/"
    detail = ent.get(r.url).content.decode()
    assert "受理部门审核" in detail and 'id="approve-button"' not in detail
    # applied for: followed under 我的申请, no longer offered (found by the issue 14 journey)
    mine = ent.get("/policies/funds/mine/").content.decode()
    assert f'data-apply="{w.measure.pk}"' not in mine and app.reference_no in mine

    pub = _client(w.publisher)
    queue = pub.get("/policies/funds/review/").content.decode()
    assert f'data-application="{app.pk}"' in queue
    assert 'id="approve-button"' in pub.get(r.url).content.decode()
    r2 = pub.post(f"/policies/funds/{app.pk}/decide/approve/", {"amount": "18000", "note": "同意"})
    assert r2.status_code == 302
    # the department may not act twice; finance now holds the step
    assert pub.post(f"/policies/funds/{app.pk}/decide/approve/", {}).status_code == 403
    fin = _client(w.finance)
    assert (
        fin.post(f"/policies/funds/{app.pk}/decide/approve/", {"note": "同意"}).status_code == 302
    )
    app.refresh_from_db()
    assert app.status == FundApplicationStatus.APPROVED and app.approved == Decimal("18000.00")
    payments = fin.get("/policies/funds/payments/").content.decode()
    grant = Grant.objects.get(application=app)
    assert f'data-grant="{grant.pk}"' in payments
    r3 = fin.post(f"/policies/funds/grants/{grant.pk}/pay/", {"voucher_no": "CZ-001"})
    assert r3.status_code == 302
    app.refresh_from_db()
    assert app.status == FundApplicationStatus.DISBURSED
    detail = ent.get(f"/policies/funds/{app.pk}/").content.decode()
    assert "资金已拨付" in detail and "CZ-001" in detail
    material = app.materials.first()
    dl = ent.get(f"/policies/funds/{app.pk}/materials/{material.pk}/")
    assert dl.status_code == 200


def test_others_cannot_see_or_decide():
    w = world()
    owner = enterprise(711)
    eligible(w.measure, owner.organisation.market_entity)
    from xinrong.policies.tests.funds_support import apply

    app = apply(w, owner)
    stranger = enterprise(712)
    assert _client(stranger).get(f"/policies/funds/{app.pk}/").status_code == 404
    other = world()
    assert _client(other.publisher).get(f"/policies/funds/{app.pk}/").status_code == 404
    r = _client(owner).post(f"/policies/funds/{app.pk}/decide/approve/", {"amount": "1"})
    assert r.status_code == 403
    assert (
        _client(owner).post("/policies/funds/grants/1/pay/", {"voucher_no": "x"}).status_code == 403
    )
    app.refresh_from_db()
    assert app.status == FundApplicationStatus.SUBMITTED


def test_auto_list_page_draw_exclude_confirm_and_enterprise_sees_it():
    w = world(delivery=Delivery.AUTOMATIC, amount=Decimal("3000.00"))
    owners = [enterprise(720 + i) for i in range(2)]
    for o in owners:
        eligible(w.measure, o.organisation.market_entity)
    pub = _client(w.publisher)
    assert f'data-measure="{w.measure.pk}"' in pub.get("/policies/funds/auto/").content.decode()
    base = f"/policies/funds/auto/{w.measure.pk}/"
    assert "尚未生成名单" in pub.get(base).content.decode()
    assert pub.post(base + "draw/").status_code == 302
    drawn = w.measure.auto_lists.get()
    first, _second = drawn.entries.order_by("id")
    pub.post(f"{base}{drawn.pk}/entries/{first.pk}/exclude/", {"note": "已享受"})
    first.refresh_from_db()
    assert first.excluded and first.exclusion_reason == "已享受"
    assert pub.post(f"{base}{drawn.pk}/confirm/").status_code == 302
    drawn.refresh_from_db()
    assert drawn.status == "confirmed"
    assert auto_grant.auto_granted_total(measure=w.measure) == Decimal("3000.00")
    page = _client(owners[1]).get("/policies/funds/mine/").content.decode()
    assert "已为您兑现" in page and 'data-source="automatic"' in page
    assert "已为您兑现" not in _client(owners[0]).get("/policies/funds/mine/").content.decode()
    # another department cannot open the list
    assert _client(world().publisher).get(base).status_code == 404


def test_only_measures_applied_for_online_and_open_offer_the_button():
    """A service measure (nothing is paid out) and one whose window has not opened are not
    offered for online application, though the enterprise qualifies for both."""
    import datetime as dt

    from xinrong.policies.choices import MeasureKind
    from xinrong.policies.models import Measure

    w = world()
    owner = enterprise(941)
    entity = owner.organisation.market_entity
    eligible(w.measure, entity)
    service = Measure.objects.create(
        document=w.measure.document,
        code="SV-1",
        title="银税互动服务",
        kind=MeasureKind.SERVICE,
        status=w.measure.status,
    )
    later = Measure.objects.create(
        document=w.measure.document,
        code="LT-1",
        title="明年的补助",
        kind=MeasureKind.SUBSIDY,
        amount=Decimal("1000"),
        status=w.measure.status,
        window_start=dt.date.today() + dt.timedelta(days=30),
    )
    eligible(service, entity)
    eligible(later, entity)
    body = _client(owner).get("/policies/funds/mine/").content.decode()
    assert f'data-apply="{w.measure.pk}"' in body
    assert f'data-apply="{service.pk}"' not in body
    assert f'data-apply="{later.pk}"' not in body
    assert not service.applies_online and w.measure.applies_online
