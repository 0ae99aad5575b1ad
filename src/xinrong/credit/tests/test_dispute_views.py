"""Dispute and repair pages: flags in the archive, forms, inboxes, downloads, permissions."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.credit.models import Dispute, RepairApplication
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.services import repair as repair_services
from xinrong.credit.tests.conftest import PDF_BYTES, pdf
from xinrong.datahub.models import Fact
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _file(user, fact, **kw):
    args = {"actor": user, "fact": fact, "kind": "objection", "claim": "记录有误"}
    return disputes_services.dispute_file(**(args | kw))


def _row(body: str, fact_id: int) -> str:
    match = re.search(rf'<tr data-fact="{fact_id}".*?</tr>', body, re.S)
    assert match, f"fact {fact_id} not on the page"
    return match.group(0)


def test_archive_flags_disputed_facts_for_every_reader(
    client, entity, enterprise_user, make_penalty, bank_officer
):
    penalty = make_penalty("general", "2024-01-10")
    url = reverse("credit:archive", args=[entity.uscc])
    client.force_login(enterprise_user)
    row = _row(client.get(url).content.decode(), penalty.pk)
    assert 'data-action="dispute"' in row and 'data-badge="disputed"' not in row
    dispute = _file(enterprise_user, penalty)
    row = _row(client.get(url).content.decode(), penalty.pk)
    assert "异议处理中" in row and f"/credit/disputes/{dispute.pk}/" in row
    assert 'data-action="dispute"' not in row
    client.force_login(bank_officer)
    row = _row(client.get(url).content.decode(), penalty.pk)
    assert 'data-badge="disputed"' in row and "/credit/disputes/" not in row
    assert 'data-action="dispute"' not in row


def test_export_marks_disputed_facts(client, entity, enterprise_user, tax_fact):
    _file(enterprise_user, tax_fact)
    client.force_login(enterprise_user)
    response = client.get(reverse("credit:archive_export", args=[entity.uscc]))
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["纳税"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][-1] == "标注" and rows[1][-1] == "异议处理中"


def test_enterprise_files_through_the_form_with_evidence(
    client, enterprise_user, tax_fact, tax_clerk, django_capture_on_commit_callbacks
):
    client.force_login(enterprise_user)
    url = reverse("credit:dispute_new", args=[tax_fact.pk])
    page = client.get(url).content.decode()
    assert "现值：1000.00" in page and 'accept=".pdf,.jpg,.jpeg,.png,.xlsx"' in page
    response = client.post(
        url,
        {"kind": "correction", "claim": "应为800元", "value_tax_paid": "八百", "evidence": pdf()},
    )
    assert response.status_code == 200
    assert re.search(r'data-field-error="value_tax_paid">[^<]*应为数字', response.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "kind": "correction",
                "claim": "应为800元",
                "value_tax_paid": "800",
                "evidence": pdf(),
            },
        )
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/credit/disputes/{dispute.pk}/"
    assert dispute.proposed_values == {"tax_paid": "800.00"} and dispute.evidence.count() == 1
    assert Notification.objects.filter(recipient=tax_clerk, kind="dispute.filed").exists()


def test_bad_evidence_is_shown_on_the_field(client, enterprise_user, tax_fact):
    client.force_login(enterprise_user)
    fake = io.BytesIO(b"MZ")
    fake.name = "木马.exe"
    response = client.post(
        reverse("credit:dispute_new", args=[tax_fact.pk]),
        {"kind": "objection", "claim": "有误", "evidence": fake},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'data-field-error="evidence">[^<]*“木马.exe”的类型不支持', body)
    assert not Dispute.objects.exists()


def test_someone_elses_fact_cannot_be_disputed(client, tax_fact, make_user):
    client.force_login(make_user("enterprise", ["enterprise_owner"]))
    assert client.get(reverse("credit:dispute_new", args=[tax_fact.pk])).status_code == 404


def test_department_inbox_highlights_overdue_and_resolves_by_correcting(
    client, enterprise_user, tax_fact, tax_clerk, django_capture_on_commit_callbacks
):
    dispute = _file(
        enterprise_user, tax_fact, kind="correction", proposed_values={"tax_paid": "800"}
    )
    Dispute.objects.filter(pk=dispute.pk).update(due_on=dt.date.today() - dt.timedelta(days=1))
    client.force_login(tax_clerk)
    body = client.get(reverse("credit:dispute_list")).content.decode()
    assert re.search(
        rf'data-dispute="{dispute.pk}" data-status="submitted" class="table-danger"', body
    )
    assert "异议处理" in body and "已逾期" in body
    overdue = client.get(reverse("credit:dispute_list") + "?overdue=1").content.decode()
    assert f'data-dispute="{dispute.pk}"' in overdue
    detail = client.get(reverse("credit:dispute_detail", args=[dispute.pk])).content.decode()
    assert 'id="correct-form"' in detail and 'value="800.00"' in detail
    url = reverse("credit:dispute_action", args=[dispute.pk, "correct"])
    response = client.post(url, {"value_tax_paid": "abc", "value_period": "2024-06"})
    assert response.status_code == 422 and "应为数字" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "value_period": "2024-06",
                "value_tax_paid": "800",
                "value_credit_grade": "B",
                "value_arrears": "0",
                "note": "核实更正",
            },
        )
    assert response.status_code == 302
    assert Fact.objects.get(pk=tax_fact.pk).amount == 800
    client.force_login(enterprise_user)
    detail = client.get(reverse("credit:dispute_detail", args=[dispute.pk])).content.decode()
    assert 'data-status="corrected"' in detail and "核实更正" in detail
    assert 'data-event="corrected"' in detail and "1000.00" in detail
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert "异议已办结：信息已更正" in inbox


def test_upholding_without_a_reason_is_refused_on_the_page(
    client, enterprise_user, tax_fact, tax_clerk
):
    dispute = _file(enterprise_user, tax_fact)
    client.force_login(tax_clerk)
    url = reverse("credit:dispute_action", args=[dispute.pk, "uphold"])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422 and 'data-field-error="reason"' in response.content.decode()
    assert client.post(url, {"reason": "核对无误"}).status_code == 302
    assert Dispute.objects.get().status == "upheld"


def test_enterprise_cannot_resolve_its_own_dispute_from_the_page(client, enterprise_user, tax_fact):
    dispute = _file(enterprise_user, tax_fact)
    client.force_login(enterprise_user)
    page = client.get(reverse("credit:dispute_detail", args=[dispute.pk])).content.decode()
    assert 'id="correct-form"' not in page and 'id="withdraw-form"' in page
    url = reverse("credit:dispute_action", args=[dispute.pk, "uphold"])
    response = client.post(url, {"reason": "自己维持"})
    assert response.status_code == 403 and "数据报送员或平台运营管理员" in response.content.decode()
    assert Dispute.objects.get().status == "submitted"
    response = client.post(reverse("credit:dispute_action", args=[dispute.pk, "withdraw"]))
    assert response.status_code == 302 and Dispute.objects.get().status == "withdrawn"


def test_disputes_of_others_are_not_found(client, enterprise_user, tax_fact, make_user):
    dispute = _file(enterprise_user, tax_fact, evidence=[pdf()])
    file_id = dispute.evidence.get().pk
    detail = reverse("credit:dispute_detail", args=[dispute.pk])
    download = reverse("credit:dispute_evidence", args=[dispute.pk, file_id])
    client.force_login(make_user("enterprise", ["enterprise_owner"]))
    assert client.get(detail).status_code == 404
    assert client.get(download).status_code == 404
    client.force_login(make_user("bank", ["loan_officer"]))
    assert client.get(reverse("credit:dispute_list")).status_code == 403
    assert client.get(reverse("credit:dispute_detail", args=[2**70])).status_code in (403, 404)


def test_evidence_downloads_for_the_parties(client, enterprise_user, tax_fact, tax_clerk):
    dispute = _file(enterprise_user, tax_fact, evidence=[pdf("完税证明.pdf")])
    url = reverse("credit:dispute_evidence", args=[dispute.pk, dispute.evidence.get().pk])
    for user in (enterprise_user, tax_clerk):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == PDF_BYTES


def test_unknown_action_is_not_found(client, enterprise_user, tax_fact):
    dispute = _file(enterprise_user, tax_fact)
    client.force_login(enterprise_user)
    url = reverse("credit:dispute_action", args=[dispute.pk, "delete"])
    assert client.post(url).status_code == 404


def test_repair_journey_hides_the_record_from_banks(
    client, entity, enterprise_user, make_penalty, tax_clerk, bank_officer, operator
):
    # decided two years ago: past its minimum publicity, within the 5 years it is kept
    old = make_penalty("general", (dt.date.today() - dt.timedelta(days=730)).isoformat())
    recent = make_penalty("serious", dt.date.today().isoformat())
    archive = reverse("credit:archive", args=[entity.uscc])
    client.force_login(enterprise_user)
    body = client.get(archive).content.decode()
    assert 'data-action="repair"' in _row(body, old.pk)
    assert 'data-action="repair"' not in _row(body, recent.pk)
    assert "起可申请修复" in _row(body, recent.pk)
    early = client.get(reverse("credit:repair_new", args=[recent.pk])).content.decode()
    assert 'id="too-early"' in early
    url = reverse("credit:repair_new", args=[old.pk])
    response = client.post(url, {"statement": "已缴清罚款并整改", "evidence": pdf("缴款凭证.pdf")})
    application = RepairApplication.objects.get()
    assert response.status_code == 302
    assert 'data-badge="repair-pending"' in _row(client.get(archive).content.decode(), old.pk)
    client.force_login(tax_clerk)
    listing = client.get(reverse("credit:repair_list")).content.decode()
    assert f'data-repair="{application.pk}"' in listing and "一般" in listing
    decide = reverse("credit:repair_decide", args=[application.pk, "approve"])
    assert client.post(decide, {"note": "整改到位"}).status_code == 302
    client.force_login(operator)  # the operator confirms (the repair approval process)
    detail = client.get(reverse("credit:repair_detail", args=[application.pk])).content.decode()
    assert 'data-step="operator_confirm"' in detail
    assert client.post(decide, {"note": "确认"}).status_code == 302
    client.force_login(bank_officer)
    assert f'data-fact="{old.pk}"' not in client.get(archive).content.decode()
    client.force_login(enterprise_user)
    assert 'data-badge="repaired"' in _row(client.get(archive).content.decode(), old.pk)


def test_repair_of_a_non_penalty_fact_is_refused(client, enterprise_user, tax_fact):
    client.force_login(enterprise_user)
    response = client.get(reverse("credit:repair_new", args=[tax_fact.pk]))
    assert response.status_code == 422 and "只有行政处罚信息" in response.content.decode()


def test_navigation_shows_dispute_pages_by_role(client, enterprise_user, tax_clerk, bank_officer):
    client.force_login(enterprise_user)
    assert "我的异议" in client.get(reverse("web:home")).content.decode()
    client.force_login(tax_clerk)
    assert "异议处理" in client.get(reverse("web:home")).content.decode()
    client.force_login(bank_officer)
    body = client.get(reverse("web:home")).content.decode()
    assert "异议处理" not in body and "我的异议" not in body


def test_list_pages_read_a_fixed_number_of_queries(
    client, enterprise_user, tax_clerk, make_penalty
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(tax_clerk)
    counts = []
    for n in (1, 4):
        while Dispute.objects.count() < n:
            day = f"2020-01-{Dispute.objects.count() + 1:02d}"
            fact = make_penalty("minor", day)
            _file(enterprise_user, fact)
            repair_services.repair_apply(
                actor=enterprise_user, fact=fact, statement="已整改", evidence=[pdf()]
            )
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("credit:dispute_list")).status_code == 200
            assert client.get(reverse("credit:repair_list")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_dispute_list_pages_keep_the_filters_and_badges_take_the_declared_colours(
    client, enterprise_user, tax_fact
):
    from django.forms.models import model_to_dict
    from django.utils import timezone

    dispute = _file(enterprise_user, tax_fact)
    fields = model_to_dict(dispute, exclude=["id", "entity", "fact", "source", "filed_by"])
    Dispute.objects.bulk_create(
        Dispute(
            **{**fields, "status": "withdrawn", "resolved_at": timezone.now()},
            entity=dispute.entity,
            fact=tax_fact,
            source=dispute.source,
            filed_by=enterprise_user,
        )
        for _ in range(31)
    )
    client.force_login(enterprise_user)
    url = reverse("credit:dispute_list")
    first = client.get(url, {"status": "withdrawn"}).content.decode()
    assert first.count("data-dispute=") == 30
    assert 'href="?status=withdrawn&amp;page=2"' in first
    second = client.get(url, {"status": "withdrawn", "page": 2}).content.decode()
    assert second.count("data-dispute=") == 1 and 'data-page="2"' in second
    assert 'class="badge text-bg-secondary" data-status="withdrawn">已撤回<' in second
    open_page = client.get(url, {"status": "submitted"}).content.decode()
    assert 'class="badge text-bg-primary" data-status="submitted">已提交<' in open_page
    detail = client.get(reverse("credit:dispute_detail", args=[dispute.pk])).content.decode()
    assert 'class="badge text-bg-primary" id="dispute-status" data-status="submitted"' in detail


def test_dispute_form_lists_every_error_at_once(client, enterprise_user, tax_fact):
    client.force_login(enterprise_user)
    url = reverse("credit:dispute_new", args=[tax_fact.pk])
    response = client.post(url, {"kind": "guess", "claim": ""})
    body = response.content.decode()
    summary = body[body.index("data-form-errors") : body.index('data-field="kind"')]
    assert 'data-error-of="kind"' in summary and 'data-error-of="claim"' in summary
    assert 'class="form-control is-invalid"' in body  # the widget classes come from the filter
