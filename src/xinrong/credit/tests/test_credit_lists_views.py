"""Pages of the white and black lists: who may see what (incl. the sub-station's region)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from xinrong.credit.models import BlacklistEntry, FraudReport, FraudStatus
from xinrong.credit.services import lists as list_services
from xinrong.credit.tests.test_credit_lists import _grade, _judicial, court  # noqa: F401

pytestmark = pytest.mark.django_db

PASSWORD = "Xinrong2026"


def _login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def listed(entity, court):  # noqa: F811
    _judicial(court, entity, "(2024)青0102执7号", "是")
    list_services.blacklist_sync()
    return entity


def test_operator_sees_the_list_and_exports_it_substation_sees_only_its_region(
    client, listed, operator, substation_operator
):
    html = _login(client, operator).get(reverse("credit:lists")).content.decode()
    assert f'data-entity="{listed.pk}"' in html and "失信被执行人" in html
    r = client.get(reverse("credit:lists_export") + "?state=active")
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "企业名称" and rows[1][1] == listed.uscc and len(rows) == 2
    client.logout()
    html = _login(client, substation_operator).get(reverse("credit:lists")).content.decode()
    assert f'data-entity="{listed.pk}"' not in html  # 西宁 entity, 格尔木 sub-station


def test_others_may_not_manage_lists(client, enterprise_user, bank_officer):
    for user in (enterprise_user, bank_officer):
        client.force_login(user)
        assert client.get(reverse("credit:lists")).status_code == 403
        assert client.post(reverse("credit:lists_sweep")).status_code == 403
        assert (
            client.post(
                reverse("credit:whitelist_criteria"), {"min_grade": "A", "min_loans_repaid": 0}
            ).status_code
            == 403
        )


def test_enterprise_sees_its_reason_and_way_out(client, listed, enterprise_user):
    html = _login(client, enterprise_user).get(reverse("credit:list_status")).content.decode()
    assert 'id="blacklisted"' in html and "(2024)青0102执7号" in html
    assert "履行法院判决" in html and "异议" in html
    r = client.post(reverse("credit:recommend_consent"), {"consented": "1"})
    assert r.status_code == 302
    assert "已同意" in client.get(reverse("credit:list_status")).content.decode()


def test_fraud_form_queue_and_decision_pages(client, entity, bank_officer, operator, make_user):
    _login(client, bank_officer)
    r = client.post(reverse("credit:fraud_new"), {"uscc": "X", "description": "短"})
    assert r.status_code == 422
    body = r.content.decode()
    assert "平台上没有该代码" in body and "至少写 10 个字" in body  # all errors at once
    r = client.post(
        reverse("credit:fraud_new"),
        {"uscc": entity.uscc, "description": "提供伪造的购销合同和银行流水申请贷款"},
    )
    assert r.status_code == 302
    report = FraudReport.objects.get()
    # another bank sees nothing of it; it cannot decide either
    other = make_user("bank", ["loan_officer"])
    client.force_login(other)
    assert client.get(reverse("credit:fraud_detail", args=[report.pk])).status_code == 404
    client.force_login(bank_officer)
    r = client.post(reverse("credit:fraud_decide", args=[report.pk, "confirm"]), {"note": "x"})
    assert r.status_code == 403
    client.force_login(operator)
    assert f'data-report="{report.pk}"' in client.get(reverse("credit:fraud_list")).content.decode()
    r = client.post(reverse("credit:fraud_decide", args=[report.pk, "confirm"]), {"note": ""})
    assert r.status_code == 422
    r = client.post(
        reverse("credit:fraud_decide", args=[report.pk, "confirm"]), {"note": "合同经核实系伪造"}
    )
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.status == FraudStatus.CONFIRMED
    assert BlacklistEntry.objects.filter(entity=entity, cleared_at__isnull=True).count() == 1
    r = client.post(reverse("credit:fraud_decide", args=[report.pk, "dismiss"]), {"note": "再议"})
    assert r.status_code == 409


def test_prospects_only_for_institutions_names_and_grades(
    client, entity, enterprise_user, bank_officer, operator
):
    _grade(entity, "AA")
    list_services.whitelist_criteria_set(actor=operator, min_grade="A", min_loans_repaid=0)
    list_services.recommend_consent_set(actor=enterprise_user, entity=entity, consented=True)
    html = _login(client, bank_officer).get(reverse("credit:prospects")).content.decode()
    assert entity.name in html and "AA" in html and entity.uscc not in html
    client.force_login(enterprise_user)
    assert client.get(reverse("credit:prospects")).status_code == 403
