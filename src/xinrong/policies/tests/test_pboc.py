"""The PBoC column: quotas never exceeded, shares of credit and first loans by month, the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.marketplace.choices import ProductType
from xinrong.marketplace.models import ProductVersion
from xinrong.policies.models import PolicyDocument
from xinrong.policies.selectors import pboc as sel
from xinrong.policies.services import pboc as svc
from xinrong.policies.tests.test_subsidy_support import first_loan, loan_like

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "admin": make_user("bank", ["institution_admin"], org=org),
    }


def test_quota_and_use_never_past_quota(enterprise_user, bank, operator, make_user):
    loan = first_loan(enterprise_user, bank, operator)
    org = bank["admin"].organisation
    year = loan.disbursed_on.year
    with pytest.raises(PermissionDeniedError):
        svc.quota_set(
            institution=org, tool="relending_small", year=year, quota=D("1"), actor=bank["admin"]
        )
    with pytest.raises(ApplicationError) as e:
        svc.quota_set(institution=org, tool="nope", year=1990, quota=D("-1"), actor=operator)
    assert set(e.value.extra["errors"]) == {"tool", "year", "quota"}
    pboc = make_user("government", ["policy_publisher"])
    pboc.organisation.name = "中国人民银行青海省分行"
    pboc.organisation.save(update_fields=["name"])
    q = svc.quota_set(
        institution=org, tool="relending_small", year=year, quota=D("150000.00"), actor=pboc
    )
    svc.quota_use_record(
        quota=q, loan=loan, amount=D("120000.00"), used_on=loan.disbursed_on, actor=pboc
    )
    other = loan_like(loan, principal=D("50000"))
    with pytest.raises(ConflictError) as c:
        svc.quota_use_record(
            quota=q, loan=other, amount=D("30000.01"), used_on=loan.disbursed_on, actor=pboc
        )
    assert c.value.code == "quota_exceeded"
    svc.quota_use_record(
        quota=q, loan=other, amount=D("30000.00"), used_on=loan.disbursed_on, actor=pboc
    )
    with pytest.raises(ConflictError):
        svc.quota_set(
            institution=org, tool="relending_small", year=year, quota=D("100000"), actor=pboc
        )
    rows = list(sel.quotas_visible(user=bank["admin"]))
    assert [(r.quota, r.used) for r in rows] == [(D("150000.00"), D("150000.00"))]
    assert list(sel.quotas_visible(user=make_user("bank", ["institution_admin"]))) == []


def test_shares_by_month(enterprise_user, bank, operator):
    """Jan: 1 credit first loan + 1 non-credit → credit 50%, first 50%; Feb: 1 credit → 100%/0%."""
    loan = first_loan(enterprise_user, bank, operator)  # credit product, disbursed 2026-01-10
    loan.first_loan = True
    loan.save(update_fields=["first_loan"])
    pv = ProductVersion.objects.get(pk=loan.application.product_version_id)
    pv.pk = None
    pv.id = None
    pv._state.adding = True
    pv.number = 99
    pv.product_type = ProductType.MORTGAGE
    pv.collateral_modes = ["mortgage"]
    pv.save()
    loan_like(loan, disbursed_on=dt.date(2026, 1, 20), product_version=pv)
    loan_like(loan, disbursed_on=dt.date(2026, 2, 3))
    f = sel.inclusive_shares(user=operator, since=dt.date(2026, 1, 1))
    got = f[["month", "loans", "credit_share", "first_share"]].values.tolist()
    assert got == [["2026-01", 2, 50.0, 50.0], ["2026-02", 1, 100.0, 0.0]]


def test_column_page(enterprise_user, bank, operator):
    PolicyDocument.objects.create(
        title="关于做好普惠小微贷款支持工具工作的通知",
        level="national",
        department=operator.organisation,
        issued_on=timezone.localdate(),
        effective_from=timezone.localdate(),
        is_pboc=True,
        status="published",
    )
    c = Client()
    for user in (operator, bank["admin"], enterprise_user):
        c.force_login(user)
        r = c.get(reverse("policies:pboc"))
        assert r.status_code == 200
        text = r.content.decode()
        assert "普惠小微贷款支持工具工作" in text
        assert ('id="pboc-quotas"' in text) == (user is not enterprise_user)


def test_record_forms(enterprise_user, bank, operator):
    loan = first_loan(enterprise_user, bank, operator)
    c = Client()
    c.force_login(bank["admin"])
    assert c.post(reverse("policies:pboc_quota"), {}).status_code == 403
    c.force_login(operator)
    assert 'id="pboc-quota-form"' in c.get(reverse("policies:pboc")).content.decode()
    bad = c.post(reverse("policies:pboc_quota"), {"quota-year": "1990"})
    assert bad.status_code == 400 and "金融机构" in bad.content.decode()
    r = c.post(
        reverse("policies:pboc_quota"),
        {
            "quota-institution": bank["admin"].organisation_id,
            "quota-tool": "relending_small",
            "quota-year": loan.disbursed_on.year,
            "quota-quota": "100000.00",
        },
    )
    assert r.status_code == 302
    q = sel.quotas_visible(user=operator).get()
    over = c.post(
        reverse("policies:pboc_use"),
        {
            "use-quota": q.pk,
            "use-loan_number": loan.number,
            "use-amount": "100000.01",
            "use-used_on": loan.disbursed_on.isoformat(),
        },
    )
    assert over.status_code == 400 and "超出额度" in over.content.decode()
    ok = c.post(
        reverse("policies:pboc_use"),
        {
            "use-quota": q.pk,
            "use-loan_number": loan.number,
            "use-amount": "100000.00",
            "use-used_on": loan.disbursed_on.isoformat(),
        },
    )
    assert ok.status_code == 302
    assert sel.quotas_visible(user=operator).get().used == D("100000.00")
