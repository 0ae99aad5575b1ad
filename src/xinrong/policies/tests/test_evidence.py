"""Evidence that policy lands: hand-computed figures, scopes, the page and the Excel export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from itertools import count

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.marketplace.models import Loan, LoanApplication
from xinrong.marketplace.tests.factories import published_product
from xinrong.policies.choices import (
    Delivery,
    DocumentStatus,
    FundApplicationStatus,
    GrantSource,
    MeasureKind,
    MeasureStatus,
)
from xinrong.policies.models import FundApplication, Measure, PolicyDocument, PolicyMatch
from xinrong.policies.selectors import evidence as ev
from xinrong.policies.services import budget

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()
SEQ = count(1)


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=TZ)


def _document(department, title="测试政策"):
    return PolicyDocument.objects.create(
        title=title,
        level="provincial",
        department=department,
        issued_on=dt.date(2026, 1, 1),
        effective_from=dt.date(2026, 1, 1),
        status=DocumentStatus.PUBLISHED,
    )


def _measure(document, code, *, budget_yuan=None, kind=MeasureKind.SUBSIDY, delivery="apply"):
    return Measure.objects.create(
        document=document,
        code=code,
        title=f"措施{code}",
        kind=kind,
        delivery=delivery,
        budget=budget_yuan,
        status=MeasureStatus.PUBLISHED,
    )


def _match(measure, entity, *, eligible=True, first=None, pushed=None):
    return PolicyMatch.objects.create(
        measure=measure,
        entity=entity,
        measure_version=1,
        eligible=eligible,
        first_matched_at=first,
        matched_at=first or timezone.now(),
        pushed_at=pushed,
    )


def _application(measure, entity, user, status, submitted, decided=None):
    return FundApplication.objects.create(
        reference_no=f"FA{next(SEQ):06d}",
        measure=measure,
        measure_version=1,
        entity=entity,
        applicant=user,
        requested=Decimal("50000.00"),
        purpose="设备购置",
        status=status,
        submitted_at=submitted,
        decided_at=decided,
    )


def _loan(entity, product, institution, user, on: dt.date, principal: str) -> Loan:
    n = next(SEQ)
    app = LoanApplication.objects.create(
        number=f"LA-EV-{n}",
        entity=entity,
        product=product,
        product_version=product.versions.order_by("-id").first(),
        institution=institution,
        amount=Decimal(principal),
        term_months=12,
        repayment_method="equal_instalment",
        submitted_by=user,
        submitted_at=timezone.now(),
        status="disbursed",
    )
    return Loan.objects.create(
        application=app,
        entity=entity,
        institution=institution,
        number=f"LN-EV-{n}",
        principal=Decimal(principal),
        annual_rate=Decimal("4.35"),
        term_months=12,
        repayment_method="equal_instalment",
        disbursed_on=on,
        maturity_on=on + dt.timedelta(days=365),
        outstanding=Decimal(principal),
    )


@pytest.fixture
def world(make_user, operator, bank_officer, substation_operator):
    """Two departments, three measures, three entities (two in Xining, one in Golmud)."""
    publisher = make_user("government", ["policy_publisher"])
    dept_a = publisher.organisation
    other = make_user("government", ["policy_publisher"])
    dept_b = other.organisation
    finance = make_user("government", ["fund_approver"])
    e1 = MarketEntityFactory(division_code="630102")
    e2 = MarketEntityFactory(division_code="632801")
    e3 = MarketEntityFactory(division_code="630102")
    doc_a, doc_b = _document(dept_a), _document(dept_b, "另一部门政策")
    m1 = _measure(doc_a, "EV-1", budget_yuan=Decimal("100000.00"))
    m2 = _measure(doc_a, "EV-2", delivery=Delivery.AUTOMATIC)
    m3 = _measure(doc_b, "EV-3", budget_yuan=Decimal("50000.00"))
    Measure.objects.filter(pk=_measure(doc_a, "EV-DRAFT").pk).update(status=MeasureStatus.DRAFT)
    _match(m1, e1, first=at(2026, 1, 10), pushed=at(2026, 1, 10))
    _match(m1, e2, first=at(2026, 1, 10))
    _match(m1, e3, eligible=False, first=None)  # a near miss: not counted
    _match(m3, e1, first=at(2026, 1, 20), pushed=at(2026, 1, 20))
    a1 = _application(
        m1, e1, publisher, FundApplicationStatus.APPROVED, at(2026, 1, 15), at(2026, 1, 18)
    )
    _application(
        m1, e2, publisher, FundApplicationStatus.REJECTED, at(2026, 1, 15), at(2026, 1, 16)
    )
    _application(m1, e3, publisher, FundApplicationStatus.IN_REVIEW, at(2026, 1, 20))
    _application(m1, e3, publisher, FundApplicationStatus.DRAFT, None)  # not submitted
    g1 = budget.grant_commit(
        measure=m1,
        entity=e1,
        amount=Decimal("30000.00"),
        source=GrantSource.APPLICATION,
        application=a1,
    )
    budget.grant_disburse(grant=g1, voucher_no="PZ-001")
    budget.grant_commit(
        measure=m2, entity=e2, amount=Decimal("1500.50"), source=GrantSource.AUTOMATIC
    )
    g_cancel = budget.grant_commit(
        measure=m3, entity=e1, amount=Decimal("999.00"), source=GrantSource.APPLICATION
    )
    budget.grant_cancel(grant=g_cancel)  # cancelled: not counted
    product = published_product(bank_officer, operator, code="EV-P")
    bank = bank_officer.organisation
    _loan(e1, product, bank, bank_officer, dt.date(2025, 12, 1), "80000")  # before: no
    _loan(e1, product, bank, bank_officer, dt.date(2026, 2, 1), "200000")
    _loan(e2, product, bank, bank_officer, dt.date(2026, 3, 1), "100000")
    _loan(e3, product, bank, bank_officer, dt.date(2026, 3, 1), "70000")  # e3 never matched
    return {
        "publisher": publisher,
        "other": other,
        "finance": finance,
        "operator": operator,
        "substation": substation_operator,
        "dept_a": dept_a,
        "dept_b": dept_b,
        "m": (m1, m2, m3),
    }


def _by_code(evidence):
    return {m.code: m.figures for m in evidence.measures}


def test_measure_figures_hand_computed(world):
    e = ev.policy_evidence(user=world["operator"])
    f = _by_code(e)
    assert set(f) == {"EV-1", "EV-2", "EV-3"}  # the draft is not evidence
    m1 = f["EV-1"]
    assert (m1.matched, m1.pushed) == (2, 1)
    assert (m1.applied, m1.approved, m1.rejected) == (3, 1, 1)
    assert m1.granted == 1
    assert m1.granted_amount == Decimal("30000.00")
    assert m1.disbursed_amount == Decimal("30000.00")
    assert m1.budget == Decimal("100000.00")
    assert m1.budget_left == Decimal("70000.00")
    assert m1.budget_used_pct == Decimal("30.0")
    assert m1.median_days == 2.0  # 3 days and 1 day
    # e1's loan of 2026-02-01 and e2's of 2026-03-01 came after the match of 2026-01-10
    assert (m1.loans, m1.loan_amount) == (2, Decimal("300000.00"))
    m2 = f["EV-2"]
    assert (m2.matched, m2.granted, m2.granted_amount) == (0, 1, Decimal("1500.50"))
    assert m2.disbursed_amount == Decimal("0.00")
    assert m2.budget is None and m2.budget_used_pct is None
    # e2's loan (2026-03-01) is before the grant (committed today): not "followed"
    assert m2.loans == 0
    m3 = f["EV-3"]
    assert (m3.matched, m3.pushed, m3.granted) == (1, 1, 0)
    assert m3.granted_amount == Decimal("0.00")  # the cancelled grant does not count
    assert m3.median_days is None
    assert (m3.loans, m3.loan_amount) == (1, Decimal("200000.00"))


def test_department_and_total_figures(world):
    e = ev.policy_evidence(user=world["operator"])
    depts = {d.department_id: d.figures for d in e.departments}
    a = depts[world["dept_a"].pk]
    assert a.measures == 2
    assert a.matched == 2  # distinct entities over the department's measures
    assert a.granted_amount == Decimal("31500.50")
    assert a.budget == Decimal("100000.00")  # only EV-1 has a budget
    assert a.loans == 2
    b = depts[world["dept_b"].pk]
    assert (b.measures, b.matched, b.loans) == (1, 1, 1)
    t = e.total
    assert t.measures == 3
    assert t.matched == 2  # e1 and e2
    assert t.pushed == 1  # e1 (pushed twice, counted once)
    assert t.budget == Decimal("150000.00")
    assert t.granted_amount == Decimal("31500.50")
    assert t.loans == 2 and t.loan_amount == Decimal("300000.00")
    assert t.median_days == 2.0


def test_publisher_sees_own_department_only(world):
    e = ev.policy_evidence(user=world["publisher"])
    assert {m.code for m in e.measures} == {"EV-1", "EV-2"}
    assert not e.all_departments
    assert ev.policy_evidence(user=world["other"]).total.measures == 1


def test_finance_sees_all_departments(world):
    e = ev.policy_evidence(user=world["finance"])
    assert e.all_departments and {m.code for m in e.measures} == {"EV-1", "EV-2", "EV-3"}


def test_substation_sees_its_region_only(world):
    e = ev.policy_evidence(user=world["substation"])
    f = _by_code(e)
    # only e2 is in Golmud (632801)
    assert (f["EV-1"].matched, f["EV-1"].pushed, f["EV-1"].applied) == (1, 0, 1)
    assert f["EV-1"].granted_amount == Decimal("0.00")
    assert f["EV-1"].median_days == 1.0
    assert (f["EV-1"].loans, f["EV-1"].loan_amount) == (1, Decimal("100000.00"))
    assert f["EV-3"].matched == 0


def test_filters(world):
    e = ev.policy_evidence(user=world["operator"], department_id=world["dept_b"].pk)
    assert [m.code for m in e.measures] == ["EV-3"]
    assert len(e.department_choices) == 2  # the choices still list every visible department
    e = ev.policy_evidence(user=world["operator"], kind=MeasureKind.AWARD)
    assert e.measures == [] and e.total.measures == 0


def test_others_see_nothing(world, bank_officer, enterprise_user):
    for user in (bank_officer, enterprise_user):
        assert ev.policy_evidence(user=user).measures == []


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_page_and_export(world):
    c = _client(world["operator"])
    r = c.get(reverse("policies:evidence"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "政策落地成效" in html and 'data-measure="EV-1"' in html
    assert "evidence-chart" in html
    # 30,000 yuan granted of a 100,000 yuan budget, shown in 万元
    row = html.split('data-measure="EV-1"')[1].split("</tr>")[0]
    assert "3 万元 / 10 万元" in row and "30.0%" in row
    r = c.get(reverse("policies:evidence_export"))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "发布部门"
    ev1 = next(row for row in rows if row[1] == "EV-1")
    assert ev1[5:11] == (2, 1, 3, 1, 1, 1)
    assert Decimal(str(ev1[12])) == Decimal("30000")
    dept_rows = list(wb.worksheets[1].iter_rows(values_only=True))
    assert dept_rows[-1][0] == "合计" and dept_rows[-1][1] == 3


def test_page_filter_error_is_shown_not_500(world):
    c = _client(world["publisher"])
    r = c.get(reverse("policies:evidence"), {"department": world["dept_b"].pk, "kind": "x"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "发布部门：请从列表中选择您可查看的部门" in html and "措施类型：请从列表中选择" in html
    assert 'data-measure="EV-3"' not in html


def test_page_empty_says_so(make_user):
    user = make_user("government", ["policy_publisher"])
    r = _client(user).get(reverse("policies:evidence"))
    assert r.status_code == 200 and 'data-empty="evidence"' in r.content.decode()


def test_page_forbidden_for_enterprise_and_anonymous(world, enterprise_user):
    assert _client(enterprise_user).get(reverse("policies:evidence")).status_code == 403
    assert _client(enterprise_user).get(reverse("policies:evidence_export")).status_code == 403
    r = Client().get(reverse("policies:evidence"))
    assert r.status_code == 302


# ---------------------------------------------------------------- workbench cards


def test_publisher_workbench_card(world):
    body = _client(world["publisher"]).get(reverse("web:home")).content.decode()
    assert 'id="wb-policy"' in body and 'id="wb-funds"' not in body
    assert 'data-stat="policy-published">2<' in body  # EV-1, EV-2 (the draft is apart)
    assert 'data-stat="policy-drafts">1<' in body
    # (waiting applications are those whose BPMN step the user holds: test_workbench_cards)
    assert 'data-stat="policy-matched">2<' in body
    assert reverse("policies:evidence") in body


def test_fund_workbench_card(world):
    body = _client(world["finance"]).get(reverse("web:home")).content.decode()
    assert 'id="wb-funds"' in body and 'id="wb-policy"' not in body
    assert 'data-stat="funds-unpaid">1<' in body  # the automatic grant of 1,500.50
    card = ev.fund_card(user=world["finance"])
    assert card["unpaid_amount"] == Decimal("1500.50")
    assert card["paid_30_amount"] == Decimal("30000.00")
    assert [m.code for m in card["tight"]] == ["EV-1", "EV-3"]  # 30% then 0%


def test_workbench_cards_empty_say_so(make_user):
    publisher = make_user("government", ["policy_publisher", "fund_approver"])
    body = _client(publisher).get(reverse("web:home")).content.decode()
    assert 'data-empty="policy"' in body and 'data-empty="funds"' in body


def test_data_provider_gets_no_policy_cards(make_user):
    user = make_user("government", ["data_provider"])
    body = _client(user).get(reverse("web:home")).content.decode()
    assert 'id="wb-policy"' not in body and 'id="wb-funds"' not in body
