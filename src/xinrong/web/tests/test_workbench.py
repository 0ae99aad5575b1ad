"""Every role's home is a workbench: sections, figures from the database, empty states, scope."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from xinrong.credit.services import disputes as dispute_services
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.marketplace.choices import ApplicationStatus
from xinrong.marketplace.models import Loan, LoanApplication
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.services import loans as loan_services
from xinrong.marketplace.tests.factories import demand_in, published_product

pytestmark = pytest.mark.django_db

S = ApplicationStatus


def stat(body: str, key: str) -> str:
    """Return the text of the figure marked ``data-stat="key"`` on a page."""
    found = re.search(rf'data-stat="{re.escape(key)}"[^>]*>\s*([^<]*?)\s*<', body)
    assert found, f"no figure {key}"
    return found.group(1)


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "admin": make_user("bank", ["institution_admin"], org=org),
    }


@pytest.fixture
def product(bank, operator):
    return published_product(bank["officer"], operator, code="WB-A", days_to_accept=2)


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


def apply(user, entity, product, amount="500000"):
    return application_services.application_submit(
        actor=user,
        entity=entity,
        product=product,
        data={"amount": amount, "term_months": 12, "repayment_method": "equal_instalment"},
    )


def disburse(app, bank, amount="400000"):
    app = application_services.application_accept(application=app, actor=bank["officer"])
    app = application_services.application_review_start(application=app, actor=bank["officer"])
    app = application_services.application_approve(
        application=app,
        actor=bank["reviewer"],
        amount=Decimal(amount),
        rate=Decimal("4.35"),
        term_months=12,
    )
    app = application_services.application_sign(
        application=app, actor=bank["officer"], contract_no="HT-1"
    )
    loan_services.application_disburse(
        application=app, actor=bank["officer"], amount=Decimal(amount)
    )
    app.refresh_from_db()
    return app


# ---------------------------------------------------------------- enterprise


def test_enterprise_workbench_empty_says_so_and_offers_next_steps(client, enterprise_user):
    # (no product is published: no first-loan product to offer either)
    body = home(client, enterprise_user)
    for section in ("applications", "demands", "matches", "cases", "notifications", "grade"):
        assert f'data-empty="{section}"' in body, section
    assert "没有进行中的贷款申请" in body
    # nothing authorised, no demand: the next steps say so and link to the pages
    assert 'data-todo="authorise"' in body and reverse("credit:authorisations") in body
    assert 'data-todo="demand"' in body and reverse("marketplace:demand_new") in body
    assert 'data-todo="data"' in body  # the test entity has no employees or revenue


def test_enterprise_workbench_shows_open_applications_with_next_step_and_deadline(
    client, enterprise_user, entity, product, bank, make_user, operator
):
    app = apply(enterprise_user, entity, product)
    other = published_product(bank["officer"], operator, code="WB-B")
    done = apply(enterprise_user, entity, other, amount="300000")
    application_services.application_withdraw(application=done, actor=enterprise_user)
    body = home(client, enterprise_user)
    open_count = LoanApplication.objects.filter(
        entity=entity,
        status__in=(S.SUBMITTED, S.ACCEPTED, S.UNDER_REVIEW, S.APPROVED, S.CONTRACT_SIGNED),
    ).count()
    assert stat(body, "applications-open") == str(open_count) == "1"
    assert app.number in body and done.number not in body
    assert "受理" in body  # the next step, named by the workflow
    assert timezone.localtime(app.sla_due_at).strftime("%Y-%m-%d %H:%M") in body
    # consent was granted with the application: no "authorise a bank" step any more
    assert 'data-todo="authorise"' not in body
    # the link behind the figure opens a list of exactly those applications
    listed = client.get(reverse("marketplace:applications") + "?open=on")
    assert 'data-list="applications-open"' in body
    assert listed.context["listing"].page.paginator.count == 1
    assert app.number in listed.content.decode() and done.number not in listed.content.decode()


def test_enterprise_workbench_shows_demands_who_took_them_and_matches(
    client, enterprise_user, entity, product, bank
):
    demand = demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())
    demand_services.demand_take(demand=demand, actor=bank["officer"])
    body = home(client, enterprise_user)
    assert stat(body, "demands-open") == "1"
    assert f"{bank['officer'].organisation.name} 已承接" in body
    assert product.name in body  # the matching ranked the bank's product for the demand
    assert 'data-empty="matches"' not in body


def test_enterprise_workbench_shows_unread_notifications_count(client, enterprise_user):
    from xinrong.notifications.models import Notification

    Notification.objects.create(recipient=enterprise_user, kind="x", title="您的申请已受理")
    Notification.objects.create(
        recipient=enterprise_user, kind="x", title="旧消息", read_at=timezone.now()
    )
    body = home(client, enterprise_user)
    assert stat(body, "unread") == "1"
    assert "您的申请已受理" in body and "旧消息" not in body


def test_enterprise_grade_and_trend_come_from_the_score_history(client, enterprise_user, entity):
    from xinrong.credit.models import CreditProfile, ScoreModel

    model = ScoreModel.objects.create(version=1, name="m", card={})
    first = timezone.now() - dt.timedelta(days=30)
    CreditProfile.objects.create(
        entity=entity, model=model, score=560, grade="BB", is_latest=False, computed_at=first
    )
    CreditProfile.objects.create(entity=entity, model=model, score=640, grade="BBB")
    body = home(client, enterprise_user)
    assert stat(body, "grade") == "BBB" and stat(body, "score") == "640"
    assert "此前为 BB" in body
    assert 'id="data-grade-trend"' in body and '"score": 560' in body
    # times in the chart are Beijing time
    assert timezone.localtime(first).strftime("%Y-%m-%d %H:%M") in body
    assert 'data-todo="grade"' in body and reverse("credit:portrait_own") in body


# ---------------------------------------------------------------- institutions


def test_officer_queue_counts_equal_the_list_and_exclude_other_banks(
    client, enterprise_user, entity, product, bank, make_user, operator
):
    a1 = apply(enterprise_user, entity, product)
    other_bank = make_user("bank", ["loan_officer"])
    foreign = published_product(other_bank, operator, code="WB-X")
    apply(enterprise_user, entity, foreign, amount="200000")
    LoanApplication.objects.filter(pk=a1.pk).update(
        sla_due_at=timezone.now() - dt.timedelta(hours=1)
    )
    body = home(client, bank["officer"])
    mine = LoanApplication.objects.filter(institution=bank["officer"].organisation)
    assert stat(body, "queue") == str(mine.count()) == "1"
    assert stat(body, "late") == "1"
    assert a1.number in body
    assert "WB-X" not in body and foreign.name not in body
    # the list the queue links to shows the same count
    client.force_login(bank["officer"])
    listing = client.get(reverse("marketplace:applications") + "?late=1").content.decode()
    assert a1.number in listing


def test_reviewer_queue_holds_what_waits_for_approval(
    client, enterprise_user, entity, product, bank
):
    app = apply(enterprise_user, entity, product)
    body = home(client, bank["reviewer"])
    assert stat(body, "queue") == "0"  # submitted waits for the officer, not the reviewer
    assert 'data-empty="queue"' in body
    app = application_services.application_accept(application=app, actor=bank["officer"])
    application_services.application_review_start(application=app, actor=bank["officer"])
    body = home(client, bank["reviewer"])
    assert stat(body, "queue") == "1" and app.number in body


def test_loan_book_balance_equals_the_loans_outstanding(
    client, enterprise_user, entity, product, bank
):
    app = disburse(apply(enterprise_user, entity, product), bank)
    Loan.objects.filter(application=app).update(overdue_days=12, outstanding=Decimal("123456.78"))
    LoanApplication.objects.filter(pk=app.pk).update(status=S.OVERDUE)
    body = home(client, bank["officer"])
    balance = Loan.objects.filter(institution=bank["officer"].organisation).aggregate(
        s=Sum("outstanding")
    )["s"]
    assert balance == Decimal("123456.78")
    assert stat(body, "balance") == "123,456.78"
    assert stat(body, "loans") == "1" and stat(body, "overdue") == "1"
    assert stat(body, "max-overdue-days") == "12"
    assert "逾期 12 天" in body


def test_loan_book_empty_says_so(client, bank):
    body = home(client, bank["officer"])
    assert 'data-empty="book"' in body and 'data-empty="alerts"' in body


def test_officer_sees_no_institution_figures_but_admin_does(
    client, enterprise_user, entity, product, bank
):
    app = disburse(apply(enterprise_user, entity, product), bank, amount="400000")
    assert 'id="wb-monthly"' not in home(client, bank["officer"])
    body = home(client, bank["admin"])
    month = timezone.localdate().strftime("%Y-%m")
    row = re.search(rf'<tr data-month="{month}">(.*?)</tr>', body, re.S)
    assert row, body
    cells = re.findall(r"<td[^>]*>\s*([^<]*?)\s*</td>", row.group(1))
    loan = Loan.objects.get(application=app)
    assert cells[1] == "1"  # applications submitted this month
    assert cells[2] == "1"  # approvals
    assert cells[4] == "1"  # disbursed
    assert cells[5] == f"{loan.principal:,.2f}" == "400,000.00"
    assert stat(body, "members") == "3"
    assert 'id="data-monthly"' in body


def test_institution_alerts_are_its_own(client, bank, make_user, entity):
    from xinrong.credit.models import Alert

    Alert.objects.create(
        entity=entity,
        institution=bank["officer"].organisation,
        rule="tax_arrears",
        severity="high",
        fingerprint="a",
    )
    other = make_user("bank", ["loan_officer"])
    Alert.objects.create(
        entity=entity,
        institution=other.organisation,
        rule="tax_arrears",
        severity="high",
        fingerprint="b",
    )
    body = home(client, bank["officer"])
    assert stat(body, "alerts") == "1"
    assert entity.name in body


# ---------------------------------------------------------------- departments


@pytest.fixture
def tax_clerk(make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    clerk = make_user("government", ["data_provider"], username="wb_tax_clerk")
    clerk.source = source_create(
        code="wb-tax",
        name="国家税务总局青海省税务局",
        organisation=clerk.organisation,
        categories=["tax", "penalty"],
    )
    return clerk


def deliver(source, text):
    return batch_ingest(
        source=source,
        category="tax",
        fileobj=io.BytesIO(text.encode()),
        filename="tax.csv",
        channel="cli",
    )


def test_department_sees_its_deliveries_errors_and_disputes_with_deadlines(
    client, tax_clerk, enterprise_user, entity
):
    header = "统一社会信用代码,所属期,实缴税额（元）,纳税信用等级,欠税金额（元）"
    batch = deliver(tax_clerk.source, f"{header}\n{entity.uscc},2024-06,1000,B,0\n,2024-07,x,B,0\n")
    fact = batch.facts.get()
    dispute = dispute_services.dispute_file(
        actor=enterprise_user,
        fact=fact,
        kind="correction",
        claim="实缴税额应为800元",
        proposed_values={"tax_paid": "800"},
    )
    body = home(client, tax_clerk)
    assert stat(body, "batches") == "1"
    assert stat(body, "rejected") == str(batch.rejected) == "1"
    assert reverse("datahub:batch_errors", args=[batch.pk]) in body
    assert stat(body, "disputes-open") == "1"
    assert dispute.due_on.strftime("%Y-%m-%d") in body
    assert stat(body, "disputes-overdue") == "0"


def test_department_empty_workbench_says_so(client, tax_clerk):
    body = home(client, tax_clerk)
    assert 'data-empty="deliveries"' in body and 'data-empty="cases"' in body


def test_policy_department_sees_no_data_hub_sections(client, gov_reviewer):
    body = home(client, gov_reviewer)
    assert "政府工作台" in body
    assert 'id="wb-deliveries"' not in body and 'id="wb-cases"' not in body


# ---------------------------------------------------------------- operator and sub-stations


def test_operator_attention_counts_and_substation_scope(
    client, operator, substation_operator, enterprise_user, entity, product, bank, make_user
):
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    haidong = enterprise_register(
        uscc=valid_uscc(seed=7),
        name="海东测试农牧有限公司",
        legal_rep_name="韩青",
        legal_rep_id_number=valid_id_number(seed=7),
        username="ent_haidong",
        password="Test-pass-2026",
        industry_code="A03",
        division_code="632801",
    )
    late_xining = apply(enterprise_user, entity, product)
    late_haidong = apply(haidong, haidong.organisation.market_entity, product, amount="200000")
    LoanApplication.objects.filter(pk__in=[late_xining.pk, late_haidong.pk]).update(
        sla_due_at=timezone.now() - dt.timedelta(hours=2)
    )
    demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())
    body = home(client, operator)
    assert stat(body, "late") == "2"
    assert stat(body, "open-demands") == "1"
    assert stat(body, "applications") == "2"
    assert stat(body, "review") == "0"
    body = home(client, substation_operator)
    assert stat(body, "late") == "1"  # only its region (海东)
    assert stat(body, "open-demands") == "0"
    assert stat(body, "applications") == "1"
    assert 'data-stat="review"' not in body  # product review is the central operator's


def test_operator_empty_attention_says_so_and_keeps_registry_charts_lower(client, operator):
    body = home(client, operator)
    assert 'data-empty="attention"' in body
    assert body.index('id="wb-attention"') < body.index('id="chart-prefecture"')


# ---------------------------------------------------------------- bounded queries


@pytest.mark.parametrize("role", ["enterprise_user", "bank_officer", "bank_admin", "operator"])
def test_workbench_queries_do_not_grow_with_rows(
    client, request, role, enterprise_user, entity, product, bank, django_assert_max_num_queries
):
    user = (
        bank["officer"]
        if role == "bank_officer"
        else (bank["admin"] if role == "bank_admin" else request.getfixturevalue(role))
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    apply(enterprise_user, entity, product, amount="100000")
    client.force_login(user)
    client.get(reverse("web:home"))  # warm caches (catalogue, registry)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("web:home"))
    operator = request.getfixturevalue("operator")
    for i in range(4):
        more = published_product(bank["officer"], operator, code=f"WB-N{i}")
        apply(enterprise_user, entity, more, amount=str(200000 + i))
    client.get(reverse("web:home"))
    with django_assert_max_num_queries(45), CaptureQueriesContext(connection) as many:
        assert client.get(reverse("web:home")).status_code == 200
    assert len(many) <= len(one) + 2, [q["sql"] for q in many.captured_queries]


def test_enterprise_sees_its_loan_with_the_next_instalment(
    client, enterprise_user, entity, product, bank
):
    from xinrong.marketplace.models import LoanInstalment

    app = disburse(apply(enterprise_user, entity, product), bank)
    body = home(client, enterprise_user)
    nearest = (
        LoanInstalment.objects.filter(loan__application=app, paid_on__isnull=True)
        .order_by("due_on")
        .first()
    )
    assert stat(body, "applications-open") == "1"
    assert "按期还款" in body and nearest.due_on.strftime("%Y-%m-%d") in body


def test_operator_balance_is_shown_in_wan_yuan(
    client, operator, enterprise_user, entity, product, bank
):
    app = disburse(apply(enterprise_user, entity, product), bank, amount="400000")
    Loan.objects.filter(application=app).update(outstanding=Decimal("383456.78"))
    body = home(client, operator)
    assert stat(body, "balance-wan") == "38.35"
    assert stat(body, "loans") == "1"


def test_guarantor_workbench_shows_what_its_permissions_allow(client, make_user, operator):
    admin = make_user("guarantor", ["institution_admin"])
    published_product(admin, operator, code="WB-G", product_type="guarantee")
    body = home(client, admin)
    assert "机构工作台" in body
    assert 'id="wb-queue"' not in body and 'id="wb-hall"' not in body  # it does not lend
    assert 'id="wb-products"' in body and stat(body, "products-published") == "1"
    assert 'id="wb-members"' in body


def test_lender_without_products_is_told_how_to_publish_one(client, bank):
    body = home(client, bank["officer"])
    assert 'data-empty="products"' in body and reverse("marketplace:new") in body


def test_policy_department_sees_its_own_cultivation_cases(client, make_user, entity):
    from xinrong.credit.models import CultivationCase
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    policy = make_user("government", ["policy_publisher"])
    other = make_user("government", ["policy_publisher"])
    for authority, status in ((policy, "active"), (policy, "graduated"), (other, "active")):
        CultivationCase.objects.create(
            entity=MarketEntityFactory(),
            authority=authority.organisation,
            status=status,
            plan="辅导建立财务制度",
            score_at_start=500,
            grade_at_start="B",
            started_by=authority,
        )
    body = home(client, policy)
    assert stat(body, "cultivation-active") == "1"
    assert stat(body, "cultivation-graduated") == "1"
    assert stat(body, "cultivation-dropped") == "0"


def test_enterprise_without_demand_or_loans_sees_first_loan_products_it_qualifies_for(
    client, enterprise_user, product
):
    body = home(client, enterprise_user)
    assert 'id="wb-first-loan"' in body and product.name in body  # tagged 首贷, no conditions
    assert reverse("marketplace:first_loan") in body


def test_guarantee_products_are_not_offered_as_first_loans(
    client, enterprise_user, make_user, operator, product
):
    """A guarantee or insurance product goes with a loan; the first-loan offer lists loans."""
    guarantor = make_user("guarantor", ["institution_admin"])
    fee = published_product(
        guarantor, operator, code="WB-GF", product_type="guarantee", rate_min="0.5", rate_max="1"
    )
    body = home(client, enterprise_user)
    block = body[body.index('id="wb-first-loan"') :].split("</ul>")[0]
    assert product.name in block and fee.name not in block


@pytest.mark.parametrize("kind", ["guarantor", "insurer"])
def test_guarantee_provider_home_shows_its_requests_to_decide(client, make_user, kind):
    """A guarantor's or insurer's home shows the requests it received (none yet: it says so),
    with the way to the list; a lender's home does not."""
    officer = make_user(kind, ["loan_officer"])
    body = home(client, officer)
    assert 'id="wb-guarantees"' in body and stat(body, "guarantees") == "0"
    assert 'data-empty="guarantees"' in body
    assert reverse("marketplace:guarantees") + "?status=pending" in body
    assert 'id="wb-guarantees"' not in home(client, make_user("bank", ["loan_officer"]))


def test_investor_home_shows_the_reserve_and_its_interests(client, make_user):
    investor = make_user("investor", ["loan_officer"])
    body = home(client, investor)
    assert 'id="wb-reserve"' in body and stat(body, "reserve") == "0"
    assert 'data-empty="reserve"' in body and reverse("marketplace:capital_market") in body
    assert "已表达投资意向 0 次" in body
