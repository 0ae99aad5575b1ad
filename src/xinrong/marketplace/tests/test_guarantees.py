"""Guarantee and insurance requests on loan applications, non-bank institutions' work, and the
operator's switch opening the capital-market reserve to a bank (issue 12)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import PASSWORD
from xinrong.accounts.permissions import can
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.marketplace.choices import GuaranteeRequestStatus as G
from xinrong.marketplace.models import GuaranteeRequest, InvestorInterest, ReserveCandidate
from xinrong.marketplace.selectors import guarantees as guarantee_selectors
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import capital_market as capital_market_services
from xinrong.marketplace.services import guarantees as guarantee_services
from xinrong.marketplace.tests.factories import published_product
from xinrong.marketplace.workflows import GUARANTEE_REQUEST
from xinrong.notifications.models import Notification
from xinrong.workflows.kernel import TransitionRefused

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def guarantor(make_user):
    return make_user("guarantor", ["loan_officer"])


@pytest.fixture
def cover(guarantor, operator):
    return published_product(
        guarantor,
        operator,
        code="GUAR-1",
        name="创业担保",
        product_type="guarantee",
        rate_min="0.5",
        rate_max="1.5",
        collateral_modes=["guarantee_company"],
    )


@pytest.fixture
def application(enterprise_user, bank_officer, operator):
    product = published_product(bank_officer, operator, code="LOAN-1")
    return application_services.application_submit(
        actor=enterprise_user,
        entity=enterprise_user.organisation.market_entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )


@pytest.fixture
def request_(enterprise_user, application, cover, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return guarantee_services.guarantee_request_file(
            actor=enterprise_user, application=application, product=cover, note="请求担保"
        )


# ---------------------------------------------------------------- the workflow's rules


def test_filing_addresses_the_provider_and_tells_its_staff(request_, guarantor, cover):
    assert request_.provider == guarantor.organisation and request_.status == G.PENDING
    assert request_.amount == Decimal("500000")
    assert request_.events.get().kind == "filed"
    assert Notification.objects.filter(recipient=guarantor, kind="guarantee_request").exists()


def test_only_the_applicant_files_and_only_to_a_guarantee_product(
    application, bank_officer, other_enterprise_user, enterprise_user, operator
):
    loan_product = application.product
    for outsider in (bank_officer, other_enterprise_user):
        with pytest.raises(PermissionDeniedError):
            guarantee_services.guarantee_request_file(
                actor=outsider, application=application, product=loan_product
            )
    with pytest.raises(ValidationError) as e:
        guarantee_services.guarantee_request_file(
            actor=enterprise_user, application=application, product=loan_product
        )
    assert "担保或保险产品" in str(e.value.message_dict["product"])
    assert not GuaranteeRequest.objects.exists()


def test_one_open_request_per_provider_and_amount_within_the_loan(
    request_, enterprise_user, application, cover
):
    with pytest.raises(ConflictError):
        guarantee_services.guarantee_request_file(
            actor=enterprise_user, application=application, product=cover
        )
    guarantee_services.guarantee_withdraw(request=request_, actor=enterprise_user)
    with pytest.raises(ValidationError) as e:
        guarantee_services.guarantee_request_file(
            actor=enterprise_user, application=application, product=cover, amount="600000"
        )
    assert "不能超过申请金额" in e.value.message_dict["amount"][0]


def test_approve_records_the_fee_and_tells_enterprise_and_lender(
    request_, guarantor, enterprise_user, bank_officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        moved = guarantee_services.guarantee_approve(
            request=request_, actor=guarantor, fee_rate="1.2", fee_amount=""
        )
    # 500000 × 1.2% × 12/12 months
    assert moved.status == G.APPROVED and moved.fee_rate == Decimal("1.200")
    assert moved.fee_amount == Decimal("6000.00") and moved.decided_by == guarantor
    assert Notification.objects.filter(recipient=enterprise_user, kind="guarantee_request").exists()
    assert Notification.objects.filter(recipient=bank_officer, kind="guarantee_request").exists()
    with pytest.raises(TransitionRefused):
        guarantee_services.guarantee_decline(request=moved, actor=guarantor, note="晚了")
    issued = guarantee_services.guarantee_issue(request=moved, actor=guarantor, letter_no="BH-1")
    assert issued.status == G.ISSUED and issued.letter_no == "BH-1"
    with pytest.raises(TransitionRefused):
        guarantee_services.guarantee_withdraw(request=issued, actor=enterprise_user)


def test_fee_errors_are_chinese_name_the_field_and_come_together(request_, guarantor):
    cases = [
        ({"fee_rate": "", "fee_amount": ""}, {"fee_rate": "请填写费率"}),
        (
            {"fee_rate": "abc", "fee_amount": "1e5"},
            {"fee_rate": "须为数字", "fee_amount": "须为数字"},
        ),
        (
            {"fee_rate": "12", "fee_amount": "-1"},
            {"fee_rate": "0 到 10", "fee_amount": "不能为负数"},
        ),
        (
            {"fee_rate": "1.2345", "fee_amount": "600000"},
            {"fee_rate": "3 位小数", "fee_amount": "不能超过"},
        ),
        ({"fee_rate": "1", "fee_amount": "10.001"}, {"fee_amount": "2 位小数"}),
    ]
    for given, expected in cases:
        with pytest.raises(ValidationError) as e:
            guarantee_services.guarantee_approve(request=request_, actor=guarantor, **given)
        errors = e.value.message_dict
        assert set(errors) == set(expected), given
        for field, words in expected.items():
            assert words in errors[field][0], (given, errors)
    request_.refresh_from_db()
    assert request_.status == G.PENDING and request_.fee_rate is None


def test_decline_needs_a_reason_and_only_the_provider_decides(
    request_, guarantor, make_user, bank_officer, enterprise_user
):
    with pytest.raises(Exception) as e:
        guarantee_services.guarantee_decline(request=request_, actor=guarantor, note="")
    assert "理由" in str(e.value)
    other = make_user("guarantor", ["loan_officer", "institution_admin"])
    insurer = make_user("insurer", ["loan_officer"])
    for outsider in (other, insurer, bank_officer, enterprise_user):
        assert not GUARANTEE_REQUEST.may(outsider, request_, "approve")
        with pytest.raises(PermissionDeniedError):
            guarantee_services.guarantee_approve(
                request=request_, actor=outsider, fee_rate="1", fee_amount=""
            )
    declined = guarantee_services.guarantee_decline(
        request=request_, actor=guarantor, note="反担保不足"
    )
    assert declined.status == G.DECLINED and declined.decision_note == "反担保不足"


# ---------------------------------------------------------------- who sees which rows


def test_scopes_provider_enterprise_lender_and_nobody_else(
    request_, guarantor, enterprise_user, bank_officer, make_user, other_enterprise_user, operator
):
    def sees(user):
        return list(guarantee_selectors.guarantee_requests_visible(user=user))

    for insider in (guarantor, enterprise_user, bank_officer, operator):
        assert sees(insider) == [request_], insider
    outsiders = [
        make_user("guarantor", ["loan_officer"]),
        make_user("insurer", ["institution_admin"]),
        make_user("bank", ["loan_officer"]),
        make_user("government", ["data_provider"]),
        other_enterprise_user,
    ]
    for outsider in outsiders:
        assert sees(outsider) == [], outsider


def test_pages_provider_works_the_queue_and_others_get_404(
    client, request_, guarantor, make_user, bank_officer, enterprise_user
):
    _login(client, guarantor)
    listing = client.get(reverse("marketplace:guarantees")).content.decode()
    assert "收到的担保/保险申请" in listing and request_.application.number in listing
    detail = client.get(reverse("marketplace:guarantee_detail", args=[request_.pk]))
    assert 'id="action-approve"' in detail.content.decode()
    url = reverse("marketplace:guarantee_action", args=[request_.pk, "approve"])
    bad = client.post(url, {"approve-fee_rate": "abc", "approve-fee_amount": "-5"})
    body = bad.content.decode()
    assert bad.status_code == 400 and "费率（%/年）须为数字" in body and "不能为负数" in body
    ok = client.post(url, {"approve-fee_rate": "0.8", "approve-fee_amount": "4000"})
    assert ok.status_code == 302
    request_.refresh_from_db()
    assert request_.status == G.APPROVED and request_.fee_amount == Decimal("4000.00")
    decline = client.post(
        reverse("marketplace:guarantee_action", args=[request_.pk, "decline"]),
        {"decline-note": "x"},
    )
    assert decline.status_code == 409
    client.logout()
    # the lender sees the request's status on its application
    _login(client, bank_officer)
    page = client.get(reverse("marketplace:application_detail", args=[request_.application_id]))
    assert "创业担保" in page.content.decode() and "已同意" in page.content.decode()
    client.logout()
    _login(client, make_user("guarantor", ["loan_officer"]))
    assert (
        client.get(reverse("marketplace:guarantee_detail", args=[request_.pk])).status_code == 404
    )


def test_enterprise_attaches_a_request_from_the_application_page(
    client, enterprise_user, application, cover
):
    _login(client, enterprise_user)
    page = client.get(reverse("marketplace:application_detail", args=[application.pk]))
    assert 'id="guarantee-file"' in page.content.decode() and "创业担保" in page.content.decode()
    response = client.post(
        reverse("marketplace:guarantee_file", args=[application.pk]),
        {"guarantee-product": str(cover.pk), "guarantee-amount": "", "guarantee-note": "请审"},
    )
    assert response.status_code == 302
    assert GuaranteeRequest.objects.get().application == application


def test_decline_page_requires_a_note_in_chinese(client, request_, guarantor):
    _login(client, guarantor)
    response = client.post(
        reverse("marketplace:guarantee_action", args=[request_.pk, "decline"]), {}
    )
    assert response.status_code == 400 and "请填写拒绝理由" in response.content.decode()


# ---------------------------------------------------------------- microloan companies lend


def test_microloan_officer_lends_like_a_bank(make_user, operator, enterprise_user):
    officer = make_user("microloan", ["loan_officer"])
    reviewer = make_user("microloan", ["reviewer"], org=officer.organisation)
    product = published_product(officer, operator, code="MICRO-1")
    assert can(officer, "marketplace.demand_take")
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=enterprise_user.organisation.market_entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )
    app = application_services.application_accept(application=app, actor=officer)
    app = application_services.application_review_start(application=app, actor=officer)
    app = application_services.application_approve(
        application=app, actor=reviewer, amount=Decimal("400000"), rate=Decimal("4"), term_months=12
    )
    assert app.status == "approved"


# ---------------------------------------------------------------- the reserve


@pytest.fixture
def entry(operator, enterprise_user):
    return capital_market_services.reserve_add(
        actor=operator, entity=enterprise_user.organisation.market_entity, criteria={}
    )


def test_investor_officer_browses_and_expresses_interest(client, make_user, entry):
    investor = make_user("investor", ["loan_officer"])
    _login(client, investor)
    listing = client.get(reverse("marketplace:capital_market"))
    assert listing.status_code == 200 and entry.entity.name in listing.content.decode()
    detail = client.get(reverse("marketplace:reserve_detail", args=[entry.pk]))
    assert detail.status_code == 200
    response = client.post(
        reverse("marketplace:reserve_interest", args=[entry.pk]), {"note": "拟投资"}
    )
    assert response.status_code == 302
    assert InvestorInterest.objects.get().investor == investor.organisation


def test_a_bank_sees_the_reserve_only_when_the_operator_opens_it(
    client, bank_officer, operator, entry
):
    _login(client, bank_officer)
    columns = client.get(reverse("marketplace:first_loan")).content.decode()
    link = f'href="{reverse("marketplace:capital_market")}"'
    assert link not in columns
    assert client.get(reverse("marketplace:capital_market")).status_code == 403
    client.logout()
    # the operator opens it on the bank's page
    _login(client, operator)
    org_page = client.get(
        reverse("accounts:organisation_detail", args=[bank_officer.organisation_id])
    ).content.decode()
    assert 'id="reserve-access-toggle"' in org_page and "开放后备库" in org_page
    response = client.post(
        reverse("marketplace:capital_market_access", args=[bank_officer.organisation_id]),
        {"allowed": "1"},
    )
    assert response.status_code == 302
    client.logout()
    _login(client, bank_officer)
    columns = client.get(reverse("marketplace:first_loan")).content.decode()
    assert link in columns
    listing = client.get(reverse("marketplace:capital_market"))
    assert listing.status_code == 200 and entry.entity.name in listing.content.decode()
    assert client.get(reverse("marketplace:reserve_detail", args=[entry.pk])).status_code == 200
    # browsing only: expressing interest stays the investors'
    assert client.post(reverse("marketplace:reserve_interest", args=[entry.pk])).status_code == 403


def test_only_the_operator_opens_the_reserve_and_only_to_lenders(bank_admin, operator, make_user):
    with pytest.raises(PermissionDeniedError):
        capital_market_services.capital_market_access_set(
            actor=bank_admin, organisation=bank_admin.organisation, allowed=True
        )
    gov = make_user("government", ["data_provider"])
    with pytest.raises(PermissionDeniedError):
        capital_market_services.capital_market_access_set(
            actor=operator, organisation=gov.organisation, allowed=True
        )
    bank_admin.organisation.refresh_from_db()
    assert not bank_admin.organisation.capital_market_access
    assert not ReserveCandidate.objects.exists()


def test_an_investor_is_offered_no_product_pages_and_no_columns_it_cannot_open(
    client, make_user, enterprise_user
):
    investor = make_user("investor", ["loan_officer"])
    _login(client, investor)
    for name in ("marketplace:mine", "marketplace:new", "marketplace:demand_hall"):
        assert client.get(reverse(name)).status_code == 403, name
    page = client.get(reverse("marketplace:capital_market")).content.decode()
    for hidden in ("marketplace:first_loan", "marketplace:renewal"):
        assert f'href="{reverse(hidden)}"' not in page, hidden
    client.logout()
    _login(client, enterprise_user)
    assert client.get(reverse("marketplace:new")).status_code == 403


def test_a_guarantor_publishes_guarantee_products_only(client, guarantor, operator):
    _login(client, guarantor)
    assert client.get(reverse("marketplace:new")).status_code == 200
    assert can(guarantor, "marketplace.product_manage")
    assert can(guarantor, "marketplace.demand_hall_view")
    assert not can(guarantor, "marketplace.demand_take")


def test_the_approval_form_starts_from_the_products_fee_rate(client, request_, guarantor, cover):
    _login(client, guarantor)
    page = client.get(reverse("marketplace:guarantee_detail", args=[request_.pk])).content.decode()
    rate = cover.current_version.rate_min
    assert re.search(rf'name="approve-fee_rate"[^>]*value="{rate}"', page) or re.search(
        rf'value="{rate}"[^>]*name="approve-fee_rate"', page
    )
