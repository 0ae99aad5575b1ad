"""A guarantor or insurer opens the loan application its guarantee request backs (and only that),
may not act on it, may not approve or issue on a rejected or withdrawn application, and its
letter numbers are unique."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from conftest import PASSWORD
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.marketplace.choices import GuaranteeRequestStatus as G
from xinrong.marketplace.models import GuaranteeRequest
from xinrong.marketplace.selectors import applications as application_selectors
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import guarantees as guarantee_services
from xinrong.marketplace.tests.factories import published_product

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def guarantor(make_user):
    return make_user("guarantor", ["loan_officer"])


@pytest.fixture
def cover(guarantor, operator):
    return published_product(
        guarantor, operator, code="GUAR-B", product_type="guarantee", rate_min="1", rate_max="2"
    )


@pytest.fixture
def loan_product(bank_officer, operator):
    return published_product(bank_officer, operator, code="LOAN-B")


def _apply(enterprise_user, product, amount="500000"):
    return application_services.application_submit(
        actor=enterprise_user,
        entity=enterprise_user.organisation.market_entity,
        product=product,
        data={"amount": amount, "term_months": 12},
    )


@pytest.fixture
def application(enterprise_user, loan_product):
    return _apply(enterprise_user, loan_product)


@pytest.fixture
def request_(enterprise_user, application, cover):
    return guarantee_services.guarantee_request_file(
        actor=enterprise_user, application=application, product=cover
    )


# ---------------------------------------------------------------- the provider sees the application


def test_the_provider_opens_the_application_its_request_backs(
    client, request_, guarantor, application
):
    _login(client, guarantor)
    url = reverse("marketplace:application_detail", args=[application.pk])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert application.number in body
    # the link from its own request page leads there
    detail = client.get(reverse("marketplace:guarantee_detail", args=[request_.pk]))
    assert url in detail.content.decode()
    # it sees it, but takes none of the lender's actions (no form, a refused POST writes nothing)
    assert "accept-note" not in body
    r = client.post(reverse("marketplace:application_action", args=[application.pk, "accept"]))
    assert r.status_code in (400, 403)
    application.refresh_from_db()
    assert application.status == "submitted"


def test_seeing_is_one_row_per_application_and_lists_stay_the_lenders(
    request_, guarantor, enterprise_user, application, cover
):
    """A declined request then a new one to the same provider: still one application (no join
    duplicates), and the provider's application list (the lender's book) stays empty."""
    guarantee_services.guarantee_decline(request=request_, actor=guarantor, note="材料不全")
    again = guarantee_services.guarantee_request_file(
        actor=enterprise_user, application=application, product=cover
    )
    assert again.status == G.PENDING
    qs = application_selectors.applications_visible(user=guarantor, backed=True)
    assert list(qs.values_list("pk", flat=True)) == [application.pk]
    assert qs.count() == 1
    assert not application_selectors.applications_visible(user=guarantor).exists()


def test_a_provider_of_another_application_and_a_declined_one_get_404(
    client,
    make_user,
    operator,
    request_,
    guarantor,
    application,
    other_enterprise_user,
    loan_product,
):
    # another guarantor backs another application: it opens that one, not this one
    rival = make_user("insurer", ["loan_officer"])
    rival_cover = published_product(
        rival, operator, code="INS-B", product_type="guarantee", rate_min="1", rate_max="2"
    )
    other_app = _apply(other_enterprise_user, loan_product, amount="300000")
    guarantee_services.guarantee_request_file(
        actor=other_enterprise_user, application=other_app, product=rival_cover
    )
    _login(client, rival)
    assert (
        client.get(reverse("marketplace:application_detail", args=[other_app.pk])).status_code
        == 200
    )
    assert (
        client.get(reverse("marketplace:application_detail", args=[application.pk])).status_code
        == 404
    )
    # and this guarantor does not see the rival's
    _login(client, guarantor)
    assert (
        client.get(reverse("marketplace:application_detail", args=[other_app.pk])).status_code
        == 404
    )
    # once it declined, the application is closed to it again
    guarantee_services.guarantee_decline(request=request_, actor=guarantor, note="不符合条件")
    assert (
        client.get(reverse("marketplace:application_detail", args=[application.pk])).status_code
        == 404
    )


# ---------------------------------------------------------------- no backing a stopped application


@pytest.mark.parametrize("stop", ["withdrawn", "rejected"])
def test_no_approval_or_letter_on_a_rejected_or_withdrawn_application(
    client, stop, request_, guarantor, enterprise_user, application, make_user
):
    approved = guarantee_services.guarantee_approve(
        request=request_, actor=guarantor, fee_rate="1", fee_amount=""
    )
    insurer = make_user("insurer", ["loan_officer"])
    second_cover = published_product(
        insurer,
        make_user("operator", ["operator_admin"]),
        code=f"INS-{stop}",
        product_type="guarantee",
        rate_min="1",
        rate_max="2",
    )
    pending = guarantee_services.guarantee_request_file(
        actor=enterprise_user, application=application, product=second_cover
    )
    if stop == "withdrawn":
        application_services.application_withdraw(
            application=application, actor=enterprise_user, note="不贷了"
        )
    else:
        application.status = "rejected"  # the lender's rejection (its own tests walk it)
        application.save(update_fields=["status"])
    with pytest.raises(ConflictError) as e:
        guarantee_services.guarantee_issue(request=approved, actor=guarantor, letter_no="BH-9")
    assert e.value.status == 409 and "不能再出具保函/保单" in e.value.message
    assert e.value.extra["field"] == "application"
    with pytest.raises(ConflictError, match="不能再同意承保"):
        guarantee_services.guarantee_approve(
            request=pending, actor=insurer, fee_rate="1", fee_amount=""
        )
    approved.refresh_from_db()
    pending.refresh_from_db()
    assert (approved.status, approved.letter_no, pending.status) == (G.APPROVED, "", G.PENDING)
    # declining stays possible (it closes the request)
    assert (
        guarantee_services.guarantee_decline(request=pending, actor=insurer, note="申请已终止")
    ).status == G.DECLINED
    # the page shows the refusal in Chinese
    _login(client, guarantor)
    r = client.post(
        reverse("marketplace:guarantee_action", args=[approved.pk, "issue"]),
        {"issue-letter_no": "BH-9"},
    )
    assert r.status_code in (400, 409) and "不能再出具保函/保单" in r.content.decode()


# ---------------------------------------------------------------- letter numbers


def test_a_providers_letter_numbers_are_unique(
    request_, guarantor, enterprise_user, loan_product, cover, other_enterprise_user, make_user
):
    moved = guarantee_services.guarantee_approve(
        request=request_, actor=guarantor, fee_rate="1", fee_amount=""
    )
    guarantee_services.guarantee_issue(request=moved, actor=guarantor, letter_no="BH-2026-001")
    other_app = _apply(other_enterprise_user, loan_product, amount="200000")
    second = guarantee_services.guarantee_request_file(
        actor=other_enterprise_user, application=other_app, product=cover
    )
    second = guarantee_services.guarantee_approve(
        request=second, actor=guarantor, fee_rate="1", fee_amount=""
    )
    with pytest.raises(ApplicationError) as e:
        guarantee_services.guarantee_issue(
            request=second, actor=guarantor, letter_no=" BH-2026-001 "
        )
    assert e.value.status == 422 and e.value.extra["field"] == "letter_no"
    assert "BH-2026-001" in e.value.message and request_.application.number in e.value.message
    second.refresh_from_db()
    assert second.status == G.APPROVED and second.letter_no == ""
    assert (
        guarantee_services.guarantee_issue(
            request=second, actor=guarantor, letter_no="BH-2026-002"
        ).letter_no
        == "BH-2026-002"
    )
    # another provider may use the same number; the database refuses a duplicate even when the
    # service is bypassed
    rival = make_user("insurer", ["loan_officer"])
    rival_cover = published_product(
        rival,
        make_user("operator", ["operator_admin"]),
        code="INS-L",
        product_type="guarantee",
        rate_min="1",
        rate_max="2",
    )
    third = guarantee_services.guarantee_request_file(
        actor=other_enterprise_user, application=other_app, product=rival_cover
    )
    third = guarantee_services.guarantee_approve(
        request=third, actor=rival, fee_rate="1", fee_amount=""
    )
    assert (
        guarantee_services.guarantee_issue(
            request=third, actor=rival, letter_no="BH-2026-001"
        ).status
        == G.ISSUED
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        GuaranteeRequest.objects.filter(pk=second.pk).update(letter_no="BH-2026-001")
