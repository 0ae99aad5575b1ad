"""Pages of loan applications: apply with consent, lists per side, detail actions, referral."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import PASSWORD
from xinrong.credit.models import Authorisation, QueryLog
from xinrong.marketplace.models import LoanApplication
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.tests.factories import published_product


@pytest.fixture
def reviewer(bank_officer, make_user):
    return make_user("bank", ["reviewer"], org=bank_officer.organisation)


@pytest.fixture
def product(bank_officer, operator):
    return published_product(bank_officer, operator, code="VIEW-A")


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _form(**kw):
    data = {
        "amount": "500000",
        "term_months": "12",
        "repayment_method": "equal_instalment",
        "purpose": "采购",
        "consent_scope": "full",
        "consent_days": "180",
        "consent": "on",
    }
    data.update(kw)
    return data


def test_enterprise_applies_from_the_product_page(client, enterprise_user, product):
    _login(client, enterprise_user)
    page = client.get(reverse("marketplace:detail", args=[product.code]))
    assert reverse("marketplace:apply", args=[product.code]) in page.content.decode()
    form = client.get(reverse("marketplace:apply", args=[product.code]))
    assert "授权该机构查询的信息范围" in form.content.decode()
    response = client.post(reverse("marketplace:apply", args=[product.code]), _form())
    app = LoanApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("marketplace:application_detail", args=[app.pk])
    detail = client.get(response["Location"]).content.decode()
    assert app.number in detail and "提交申请" in detail and "撤回申请" in detail


def test_apply_without_consent_or_out_of_range_shows_chinese_errors(
    client, enterprise_user, product
):
    _login(client, enterprise_user)
    url = reverse("marketplace:apply", args=[product.code])
    no_consent = _form()
    del no_consent["consent"]
    body = client.post(url, no_consent).content.decode()
    assert "须同意信息查询授权才能提交申请" in body
    body = client.post(url, _form(amount="99")).content.decode()
    assert "申请金额须在产品额度" in body
    assert not LoanApplication.objects.exists() and not Authorisation.objects.exists()


def test_institution_works_the_application_and_reads_the_portrait_logged(
    client, enterprise_user, product, bank_officer, reviewer
):
    entity = enterprise_user.organisation.market_entity
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )
    _login(client, bank_officer)
    listing = client.get(reverse("marketplace:applications")).content.decode()
    assert app.number in listing and entity.name in listing
    detail = client.get(reverse("marketplace:application_detail", args=[app.pk])).content.decode()
    assert 'id="action-accept"' in detail and 'id="action-approve"' not in detail
    url = reverse("marketplace:application_action", args=[app.pk, "accept"])
    assert client.post(url, {"accept-note": "资料齐全"}).status_code == 302
    client.post(reverse("marketplace:application_action", args=[app.pk, "review"]), {})
    # the officer may not approve (审贷分离): the page refuses with the rule
    refused = client.post(
        reverse("marketplace:application_action", args=[app.pk, "approve"]),
        {"approve-amount": "400000", "approve-rate": "4.35", "approve-term_months": "12"},
    )
    assert refused.status_code == 400 and "审批人员" in refused.content.decode()
    # reading the enterprise's archive under the application's consent is logged
    client.get(reverse("credit:archive", args=[entity.uscc]))
    assert QueryLog.objects.filter(entity=entity, organisation=bank_officer.organisation).exists()
    client.logout()
    _login(client, reviewer)
    ok = client.post(
        reverse("marketplace:application_action", args=[app.pk, "approve"]),
        {"approve-amount": "400000", "approve-rate": "4.35", "approve-term_months": "12"},
    )
    assert ok.status_code == 302
    app.refresh_from_db()
    assert app.status == "approved" and app.approved_amount == Decimal("400000")


def test_other_users_get_404_for_an_application(
    client, enterprise_user, product, make_user, other_enterprise_user
):
    entity = enterprise_user.organisation.market_entity
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )
    for user in (make_user("bank", ["loan_officer"]), other_enterprise_user):
        client.logout()
        _login(client, user)
        assert (
            client.get(reverse("marketplace:application_detail", args=[app.pk])).status_code == 404
        )
        assert app.number not in client.get(reverse("marketplace:applications")).content.decode()


def test_rejected_enterprise_chooses_institutions_and_scope_and_confirms_a_referral(
    client, enterprise_user, product, reviewer, make_user, operator
):
    other_bank = make_user("bank", ["loan_officer"])
    other = published_product(other_bank, operator, code="VIEW-B")
    entity = enterprise_user.organisation.market_entity
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )
    application_services.application_reject(
        application=app, actor=reviewer, reason="capacity", note="流水不足"
    )
    _login(client, enterprise_user)
    detail = client.get(reverse("marketplace:application_detail", args=[app.pk])).content.decode()
    assert 'id="refer"' in detail and other.name in detail and product.name in detail
    # nothing is pre-chosen: the enterprise picks the institutions and the scope, and confirms
    assert "checked" not in detail[detail.index('id="refer"') : detail.index('id="refer-submit"')]
    url = reverse("marketplace:application_refer", args=[app.pk])
    refused = client.post(url, {"refer-products": [other.pk]})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "请选择授权所选机构查询的信息范围" in body and "请勾选确认后再转介" in body
    assert not LoanApplication.objects.filter(referred_from=app).exists()
    client.post(
        url,
        {
            "refer-products": [other.pk],
            "refer-consent_scope": "chosen",
            "refer-consent_categories": ["tax"],
            "refer-consent_days": "90",
            "refer-confirm": "on",
        },
    )
    new = LoanApplication.objects.select_related("authorisation").get(referred_from=app)
    assert new.institution_id == other_bank.organisation_id
    assert new.authorisation.scope == "chosen" and new.authorisation.categories == ["tax"]


def test_list_pages_keep_the_filter_and_badges_take_the_declared_colours(
    client, enterprise_user, product
):
    from django.forms.models import model_to_dict

    _login(client, enterprise_user)
    client.post(reverse("marketplace:apply", args=[product.code]), _form())
    app = LoanApplication.objects.get()
    relations = {
        f.name: getattr(app, f.name)
        for f in LoanApplication._meta.concrete_fields
        if f.is_relation and f.name in model_to_dict(app)
    }
    fields = model_to_dict(app, exclude=["id", "number"])  # relations as ids: replaced below
    LoanApplication.objects.bulk_create(
        LoanApplication(**{**fields, **relations, "status": "withdrawn", "number": f"TEST{n:08d}"})
        for n in range(21)
    )
    url = reverse("marketplace:applications")
    first = client.get(url, {"status": "withdrawn"}).content.decode()
    assert first.count('data-status="withdrawn">') >= 20
    assert 'href="?status=withdrawn&amp;page=2"' in first
    second = client.get(url, {"status": "withdrawn", "page": 2}).content.decode()
    assert second.count("<tr data-number=") == 1 and 'data-page="2"' in second
    assert 'class="badge text-bg-secondary" data-status="withdrawn">已撤回<' in second
    detail = client.get(reverse("marketplace:application_detail", args=[app.pk])).content.decode()
    assert 'class="badge text-bg-primary fs-6" id="app-status" data-status="submitted"' in detail
