"""After 抢单: the taker sees the enterprise's contact (masked unless authorised) and a link to its
registry card, and invites it to apply; the enterprise is told with a link to the pre-filled form
and sees the invitation on its demand page."""

import pytest
from django.urls import reverse

from conftest import PASSWORD
from xinrong.common.errors import ConflictError
from xinrong.marketplace import matching
from xinrong.marketplace.models import DemandEvent, LoanApplication
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_in, published_product
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_board():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


@pytest.fixture
def demand(enterprise_user):
    enterprise_user.phone = "13812345678"
    enterprise_user.save(update_fields=["phone"])
    entity = common_selectors.user_entity(user=enterprise_user)
    return demand_services.demand_publish(
        actor=enterprise_user, entity=entity, data=demand_in(amount="500000", term_months=24)
    )


@pytest.fixture
def product(bank_officer, operator):
    return published_product(bank_officer, operator, code="INV-1", name="邀请贷")


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_taker_gets_masked_contact_link_and_invites(
    client, demand, product, bank_officer, enterprise_user, django_capture_on_commit_callbacks
):
    _login(client, bank_officer)
    client.post(reverse("marketplace:demand_take", args=[demand.pk]))
    page = client.get(reverse("marketplace:demand", args=[demand.pk])).content.decode()
    assert 'id="demand-contact"' in page
    assert "138****5678" in page and "13812345678" not in page
    assert reverse("enterprises:detail", args=[demand.entity.uscc]) in page
    assert 'id="invite-form"' in page and 'value="INV-1"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("marketplace:demand_invite", args=[demand.pk]), {"product": "INV-1"}
        )
    assert response.status_code == 302
    event = DemandEvent.objects.get(demand=demand, kind="invited")
    assert event.organisation_id == bank_officer.organisation_id
    assert event.data["product"] == "INV-1"
    note = Notification.objects.get(recipient=enterprise_user, kind="demand.invited")
    link = reverse("marketplace:apply", args=["INV-1"]) + f"?demand={demand.pk}"
    assert note.link == link and "邀请贷" in note.title
    # the enterprise sees the invitation and the form opens pre-filled from the demand
    client.logout()
    _login(client, enterprise_user)
    own = client.get(reverse("marketplace:demand", args=[demand.pk])).content.decode()
    assert 'id="demand-invitations"' in own and link in own and "邀请您申请“邀请贷”" in own
    assert 'id="demand-contact"' not in own
    form = client.get(link)
    assert form.status_code == 200
    assert str(form.context["form"].initial["amount"]) == "500000.00"
    assert form.context["form"].initial["term_months"] == 24


def test_full_phone_once_the_enterprise_authorised_the_taker(
    client, demand, product, bank_officer, enterprise_user
):
    demand_services.demand_take(demand=demand, actor=bank_officer)
    application_services.application_submit(
        actor=enterprise_user,
        entity=demand.entity,
        product=product,
        data={"amount": "500000", "term_months": 24},
        demand=demand,
    )
    _login(client, bank_officer)
    page = client.get(reverse("marketplace:demand", args=[demand.pk])).content.decode()
    assert "13812345678" in page
    assert 'id="demand-applications"' in page


def test_only_the_holder_invites_and_sees_the_contact(
    client, demand, product, bank_officer, bank_admin, operator
):
    other_product = published_product(bank_admin, operator, code="INV-2")
    with pytest.raises(ConflictError):
        demand_services.demand_invite(demand=demand, actor=bank_officer, product=product)
    demand_services.demand_take(demand=demand, actor=bank_officer)
    demand.refresh_from_db()
    with pytest.raises(Exception, match="本机构已上架的贷款产品"):
        demand_services.demand_invite(demand=demand, actor=bank_officer, product=other_product)
    with pytest.raises(ConflictError):
        demand_services.demand_invite(demand=demand, actor=bank_admin, product=other_product)
    _login(client, bank_admin)
    page = client.get(reverse("marketplace:demand", args=[demand.pk])).content.decode()
    assert 'id="demand-contact"' not in page and "138****5678" not in page
    client.post(reverse("marketplace:demand_invite", args=[demand.pk]), {"product": "INV-2"})
    assert not DemandEvent.objects.filter(kind="invited").exists()
    assert not LoanApplication.objects.exists()


def test_a_demand_an_application_follows_does_not_escalate(
    demand, product, bank_officer, enterprise_user
):
    import datetime as dt

    from django.utils import timezone

    from xinrong.marketplace.models import Demand

    application_services.application_submit(
        actor=enterprise_user,
        entity=demand.entity,
        product=product,
        data={"amount": "500000", "term_months": 24},
        demand=demand,
    )
    Demand.objects.filter(pk=demand.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
    assert demand_services.demands_escalate_stale() == 0
    LoanApplication.objects.update(status="rejected")
    assert demand_services.demands_escalate_stale() == 1


def test_invitable_products_put_those_the_enterprise_qualifies_for_first(
    demand, product, bank_officer, operator
):
    from xinrong.marketplace.selectors import demands as demand_selectors

    strict = published_product(
        bank_officer, operator, code="INV-0", name="严格贷", min_credit_grade="AAA"
    )
    demand_services.demand_take(demand=demand, actor=bank_officer)
    codes = [p.code for p in demand_selectors.invitable_products(user=bank_officer, demand=demand)]
    assert codes == ["INV-1", strict.code]
