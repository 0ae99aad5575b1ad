"""The disputes list and the query log as lists a clerk works with (issue 12): filters, the
empty state, bad filter values, and the Excel export of exactly the list."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from xinrong.credit.models import Dispute, QueryLog
from xinrong.credit.services import disputes as disputes_services

pytestmark = pytest.mark.django_db


def _xlsx(response):
    assert response.status_code == 200, response.content[:300]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


def _ids(html):
    return {d.pk for d in Dispute.objects.all() if f'data-dispute="{d.pk}"' in html}


@pytest.fixture
def disputes(enterprise_user, tax_fact, make_penalty):
    penalty = make_penalty("general", "2024-01-10")
    one = disputes_services.dispute_file(
        actor=enterprise_user, fact=tax_fact, kind="objection", claim="记录有误"
    )
    two = disputes_services.dispute_file(
        actor=enterprise_user, fact=penalty, kind="objection", claim="处罚已撤销"
    )
    Dispute.objects.filter(pk=one.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    return one, two


def test_dispute_inbox_filters_and_bad_values(client, disputes, tax_clerk):
    one, two = disputes
    client.force_login(tax_clerk)
    url = reverse("credit:dispute_list")
    assert _ids(client.get(url).content.decode()) == {one.pk, two.pk}
    assert _ids(client.get(url, {"overdue": "1"}).content.decode()) == {one.pk}
    assert _ids(client.get(url, {"category": "penalty"}).content.decode()) == {two.pk}
    html = client.get(url, {"q": "没有这家企业"}).content.decode()
    assert "没有符合条件的异议" in html and "关键词“没有这家企业”" in html
    response = client.get(url, {"status": "nonsense", "submitted_to": "2026-02-30"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "状态：“nonsense”不是可选的值" in body and "提交日期至：请输入有效日期" in body


def test_dispute_export_is_the_filtered_list_with_labels_and_dates(client, disputes, tax_clerk):
    one, _two = disputes
    client.force_login(tax_clerk)
    rows = _xlsx(client.get(reverse("credit:dispute_export"), {"overdue": "1"}))
    header, data = rows[0], rows[1:]
    assert [r[0] for r in data] == [one.pk]
    row = data[0]
    assert row[header.index("异议类型")] not in ("objection", None)
    assert row[header.index("状态")] == "已提交"
    assert row[header.index("是否逾期")] == "是"
    assert isinstance(row[header.index("答复期限")], dt.datetime)  # a date cell
    assert isinstance(row[header.index("提交时间")], dt.datetime)


def test_dispute_export_scope_is_the_users(client, disputes, make_user):
    other = make_user("enterprise", ["enterprise_owner"])
    client.force_login(other)
    rows = _xlsx(client.get(reverse("credit:dispute_export")))
    assert rows[1:] == []  # another enterprise's disputes never appear
    bank = make_user("bank", ["loan_officer"])
    client.force_login(bank)
    assert client.get(reverse("credit:dispute_export")).status_code == 403


def test_query_log_filters_and_export(client, entity, enterprise_user, bank_officer, facts):
    client.force_login(enterprise_user)
    response = client.post(
        reverse("credit:authorisations"),
        {
            "institution": bank_officer.organisation.pk,
            "scope": "full",
            "purpose": "loan_application",
            "purpose_note": "",
            "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    client.force_login(bank_officer)
    client.get(reverse("credit:archive", args=[entity.uscc]))
    client.get(reverse("credit:archive", args=[entity.uscc]))
    assert QueryLog.objects.count() == 2
    client.force_login(enterprise_user)
    url = reverse("credit:query_log")
    html = client.get(url, {"purpose": "post_loan"}).content.decode()
    assert "没有符合条件的查询记录" in html and "查询用途：贷后管理" in html
    html = client.get(url, {"q": bank_officer.organisation.name}).content.decode()
    assert html.count("data-log=") == 2
    rows = _xlsx(client.get(reverse("credit:query_log_export")))
    header, data = rows[0], rows[1:]
    assert len(data) == 2
    assert data[0][header.index("机构")] == bank_officer.organisation.name
    assert data[0][header.index("查询用途")] == "贷款审批"
    assert data[0][header.index("渠道")] == "网页"
    assert isinstance(data[0][header.index("查询时间")], dt.datetime)
    client.force_login(bank_officer)
    assert client.get(reverse("credit:query_log_export")).status_code == 403


def test_alert_inbox_filters_keep_the_tab_and_page(client, entity, bank_officer, make_user):
    from xinrong.credit.early_warning import RULES_BY_ID
    from xinrong.credit.models import Alert

    rule = next(iter(RULES_BY_ID))
    other_bank = make_user("bank", ["loan_officer"])

    def alert(institution, severity, status, n):
        return Alert.objects.create(
            entity=entity,
            institution=institution,
            rule=rule,
            severity=severity,
            status=status,
            fingerprint=f"f{n}",
        )

    high = alert(bank_officer.organisation, "high", "open", 1)
    alert(bank_officer.organisation, "low", "open", 2)
    alert(bank_officer.organisation, "high", "closed", 3)
    alert(other_bank.organisation, "high", "open", 4)
    client.force_login(bank_officer)
    url = reverse("credit:alerts")
    html = client.get(url, {"severity": "high"}).content.decode()
    assert html.count(f'data-rule="{rule}"') == 1  # open (the tab) and high; never the other bank's
    assert 'name="status" value="open"' not in html  # no tab chosen: nothing to carry
    html = client.get(url, {"status": "all", "severity": "high"}).content.decode()
    assert html.count(f'data-rule="{rule}"') == 2
    assert '<input type="hidden" name="status" value="all">' in html  # filtering keeps the tab
    html = client.get(url, {"status": "all", "severity": "bogus"}).content.decode()
    assert "严重程度：“bogus”不是可选的值" in html and html.count(f'data-rule="{rule}"') == 3
    html = client.get(url, {"q": "不存在"}).content.decode()
    assert "没有符合条件的预警" in html
    assert high.pk


def test_repair_list_empty_state_and_bad_status(client, tax_clerk):
    client.force_login(tax_clerk)
    url = reverse("credit:repair_list")
    html = client.get(url).content.decode()
    assert "暂无修复申请" in html
    html = client.get(url, {"q": "某某公司"}).content.decode()
    assert "没有符合条件的修复申请" in html and "关键词“某某公司”" in html
    response = client.get(url, {"status": "bogus"})
    assert response.status_code == 200
    assert "状态：“bogus”不是可选的值" in response.content.decode()
