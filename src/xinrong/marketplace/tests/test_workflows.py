"""The marketplace's workflows on the kernel: notices reach the right organisation's people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinrong.common.errors import PermissionDeniedError
from xinrong.marketplace.models import DemandEvent, ProductEvent
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.tests.factories import (
    demand_in,
    product_terms,
    published_product,
)
from xinrong.marketplace.workflows import APPLICATION, DEMAND, PRODUCT
from xinrong.notifications.models import Notification
from xinrong.workflows.kernel import transition_apply
from xinrong.workflows.timeline import TimelineEvent


def _inbox(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind)


def test_event_tables_are_timeline_events():
    assert issubclass(ProductEvent, TimelineEvent) and issubclass(DemandEvent, TimelineEvent)


def test_a_new_demand_tells_the_lenders_whose_products_cover_its_place(
    enterprise_user, make_user, operator, django_capture_on_commit_callbacks
):
    near = make_user("bank", ["loan_officer"])
    far = make_user("bank", ["loan_officer"])
    guarantor = make_user("guarantor", ["loan_officer"])
    published_product(near, operator, code="NEAR-1", regions=["630100"])  # 西宁市 covers 630102
    published_product(far, operator, code="FAR-1", regions=["632800"])
    published_product(guarantor, operator, code="GUA-1", product_type="guarantee")
    entity = enterprise_user.organisation.market_entity
    with django_capture_on_commit_callbacks(execute=True):
        demand = demand_services.demand_publish(
            actor=enterprise_user, entity=entity, data=demand_in()
        )
    assert _inbox(near, "demand.published").count() == 1
    assert _inbox(far, "demand.published").count() == 0
    assert _inbox(guarantor, "demand.published").count() == 0  # guarantors do not take demands
    assert _inbox(enterprise_user, "demand.published").count() == 0
    assert demand.events.get().kind == "published" and demand.events.get().to_status == "open"


def test_the_enterprise_is_told_when_its_demand_moves(
    enterprise_user, make_user, bank_officer, django_capture_on_commit_callbacks
):
    agent = make_user("enterprise", ["enterprise_agent"], org=enterprise_user.organisation)
    entity = enterprise_user.organisation.market_entity
    demand = demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())
    with django_capture_on_commit_callbacks(execute=True):
        demand_services.demand_withdraw(demand=demand, actor=agent)
    assert _inbox(enterprise_user, "demand.withdrawn").count() == 1
    assert _inbox(agent, "demand.withdrawn").count() == 0  # the actor is not told of its own act
    event = demand.events.get(kind="withdrawn")
    assert (event.from_status, event.to_status, event.actor) == ("open", "withdrawn", agent)


def test_the_product_institution_is_told_of_the_review(
    bank_officer, make_user, operator, django_capture_on_commit_callbacks
):
    colleague = make_user("bank", ["loan_officer"], org=bank_officer.organisation)
    stranger = make_user("bank", ["loan_officer"])
    product = product_services.product_create(
        actor=bank_officer, code="NOTE-1", name="通知产品", terms=product_terms()
    )
    product_services.product_submit(product=product, actor=bank_officer)
    with django_capture_on_commit_callbacks(execute=True):
        product_services.product_return(product=product, actor=operator, reason="利率过高")
    returned = _inbox(bank_officer, "product").get()
    assert "利率过高" in returned.body and "通知产品" in returned.title
    product_services.product_submit(product=product, actor=bank_officer)
    with django_capture_on_commit_callbacks(execute=True):
        product_services.product_approve(product=product, actor=operator)
    assert _inbox(colleague, "product").count() == 2
    assert _inbox(stranger, "product").count() == 0
    assert _inbox(operator, "product").count() == 0


def test_a_live_products_new_version_is_reviewed_while_it_stays_on_sale(bank_officer, operator):
    product = published_product(bank_officer, operator, code="LIVE-1")
    product_services.product_update(
        product=product, actor=bank_officer, terms=product_terms(rate_max="5")
    )
    product = product_services.product_submit(product=product, actor=bank_officer)
    assert product.status == "published"
    event = product.events.order_by("-id").first()
    assert (event.kind, event.from_status, event.to_status) == (
        "submitted",
        "published",
        "published",
    )
    assert event.version.number == 2


def test_the_enterprise_is_told_of_every_move_and_the_institution_of_arrivals(
    enterprise_user, bank_officer, make_user, operator, django_capture_on_commit_callbacks
):
    reviewer = make_user("bank", ["reviewer"], org=bank_officer.organisation)
    product = published_product(bank_officer, operator, code="TOLD-1")
    entity = enterprise_user.organisation.market_entity
    with django_capture_on_commit_callbacks(execute=True):
        app = application_services.application_submit(
            actor=enterprise_user,
            entity=entity,
            product=product,
            data={"amount": "500000", "term_months": 12},
        )
    assert _inbox(reviewer, "loan_application").count() == 1
    assert _inbox(enterprise_user, "loan_application").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        application_services.application_accept(application=app, actor=bank_officer)
        application_services.application_review_start(application=app, actor=bank_officer)
    titles = list(_inbox(enterprise_user, "loan_application").values_list("title", flat=True))
    assert len(titles) == 2 and all(app.number in t for t in titles)


def test_system_only_actions_are_refused_to_people(enterprise_user, operator):
    entity = enterprise_user.organisation.market_entity
    demand = demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())
    for action in ("expire", "escalate", "close"):
        with pytest.raises(PermissionDeniedError):
            transition_apply(DEMAND, demand, action, actor=operator)
    assert DEMAND.may(None, demand, "close") and not DEMAND.may(operator, demand, "close")


def test_buttons_come_from_the_workflow(enterprise_user, bank_officer, operator):
    product = published_product(bank_officer, operator, code="BTN-1")
    assert {a.name for a in PRODUCT.available(bank_officer, product)} == {
        "edit",
        "submit_version",
        "withdraw",
    }
    assert {a.name for a in PRODUCT.available(operator, product)} == {
        "approve_version",
        "return_version",
    }
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=enterprise_user.organisation.market_entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )
    assert [a.name for a in APPLICATION.available(enterprise_user, app)] == ["withdraw"]
    assert {a.name for a in APPLICATION.available(bank_officer, app)} == {"accept", "reject"}


def test_the_institution_is_reminded_once_before_the_service_time_runs_out(
    enterprise_user, bank_officer, operator, django_capture_on_commit_callbacks
):
    from xinrong.workflows.kernel import deadlines_remind

    product = published_product(bank_officer, operator, code="SLA-1", days_to_accept=2)
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=enterprise_user.organisation.market_entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )
    due = timezone.localtime(app.sla_due_at).date()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            deadlines_remind(today=due - dt.timedelta(days=2))["marketplace.application.sla"] == 0
        )
        assert (
            deadlines_remind(today=due - dt.timedelta(days=1))["marketplace.application.sla"] == 1
        )
        assert deadlines_remind(today=due)["marketplace.application.sla"] == 0  # once only
    reminder = _inbox(bank_officer, "loan_application").exclude(title__startswith="新的").get()
    assert app.number in reminder.title and f"{due:%Y-%m-%d}" in reminder.title
    assert _inbox(enterprise_user, "loan_application").count() == 0
    assert app.events.filter(kind="remind.sla").count() == 1


def test_review_buttons_only_for_who_may_review(client, bank_officer, operator, make_user):
    auditor = make_user("operator", ["auditor"])
    product = product_services.product_create(
        actor=bank_officer, code="BTN-2", name="按钮产品", terms=product_terms()
    )
    product_services.product_submit(product=product, actor=bank_officer)
    url = f"/marketplace/manage/{product.pk}/"
    approve = f"/marketplace/manage/{product.pk}/approve/"
    client.force_login(operator)
    assert approve in client.get(url).content.decode()
    client.force_login(auditor)  # sees the product, may not review it
    page = client.get(url)
    assert page.status_code == 200 and approve not in page.content.decode()
    client.force_login(bank_officer)
    assert approve not in client.get(url).content.decode()
