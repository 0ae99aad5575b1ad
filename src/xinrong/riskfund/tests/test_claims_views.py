"""The claim pages through the real views: scoping, the figures in words, actions, recoveries,
statistics and the Excel exports read back."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xinrong.riskfund.choices import ClaimStatus, RecoveryStatus
from xinrong.riskfund.models import Claim, Recovery
from xinrong.riskfund.selectors.claims import claim_statistics, claims_card
from xinrong.riskfund.services import claims as services
from xinrong.riskfund.tests.factories import fund_world, platform_loan
from xinrong.riskfund.tests.test_claims import file_claim, pdf

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_filing_through_the_pages_shows_the_verdict_and_figures(client, make_user):
    w = fund_world(make_user)
    loan = platform_loan(w.bank, w.officer, w.product, principal="1000000.00")
    bad = platform_loan(w.bank, w.officer, w.product, principal="9000000.00")
    login(client, w.officer)
    page = client.get(reverse("riskfund:claim_new"))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-loan="{loan.pk}" data-claimable="yes"' in html
    assert f'data-loan="{bad.pk}" data-claimable="no"' in html and "单笔上限" in html
    form = client.get(reverse("riskfund:claim_new"), {"loan": loan.pk})
    assert (
        "分担基数 = 损失 100 万（无担保代偿）；补偿 = 100 万 × 30% = 30 万" in form.content.decode()
    )
    # nothing filled and no file: every error at once, 422, nothing written
    refused = client.post(reverse("riskfund:claim_new"), {"loan": loan.pk, "loss_principal": "x"})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert "本金损失必须是数字" in body and "至少上传一份证明材料" in body
    assert not Claim.objects.exists()
    done = client.post(
        reverse("riskfund:claim_new"),
        {"loan": loan.pk, "loss_principal": "1000000.00", "note": "诉讼判决", "evidence": pdf()},
    )
    claim = Claim.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "riskfund:claim_detail", args=[claim.pk]
    )
    detail = client.get(done["Location"]).content.decode()
    assert "受理审核" in detail and "30 万" in detail


def test_approval_through_the_pages_and_the_queue(client, make_user):
    w = fund_world(make_user)
    claim = file_claim(w)
    login(client, w.office)
    queue = client.get(reverse("riskfund:claim_queue")).content.decode()
    assert f'data-claim="{claim.pk}"' in queue
    r = client.post(reverse("riskfund:claim_action", args=[claim.pk, "approve"]), {"note": ""})
    assert r.status_code == 302
    login(client, w.finance)
    # refusing without a reason: 422 with the field error, nothing moves
    r = client.post(reverse("riskfund:claim_action", args=[claim.pk, "reject"]), {"note": ""})
    assert r.status_code == 422 and "请填写不同意的理由" in r.content.decode()
    r = client.post(reverse("riskfund:claim_action", args=[claim.pk, "approve"]), {"note": "同意"})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    # the institution reports a recovery, the office confirms it
    login(client, w.officer)
    r = client.post(
        reverse("riskfund:recovery_new", args=[claim.pk]),
        {"amount": "100000", "recovered_on": timezone.localdate().isoformat(), "note": "执行款"},
    )
    assert r.status_code == 302
    rec = Recovery.objects.get()
    login(client, w.office)
    r = client.post(reverse("riskfund:recovery_action", args=[rec.pk, "confirm"]))
    rec.refresh_from_db()
    assert rec.status == RecoveryStatus.CONFIRMED and rec.gov_return == Decimal("30000.00")
    detail = client.get(reverse("riskfund:claim_detail", args=[claim.pk])).content.decode()
    assert "追偿已返还" in detail


def test_scoping_of_claims(client, make_user):
    w = fund_world(make_user)
    claim = file_claim(w)
    stranger = make_user("bank", ["loan_officer"])
    golmud = make_user("substation", ["operator_admin"], region_code="632801")
    other_finance = make_user("government", ["fund_approver"])
    enterprise = make_user("enterprise", ["enterprise_owner"])
    auditor = make_user("operator", ["auditor"])
    url = reverse("riskfund:claim_detail", args=[claim.pk])
    for user in (stranger, golmud, other_finance):
        login(client, user)
        assert client.get(url).status_code == 404
        listing = client.get(reverse("riskfund:claims")).content.decode()
        assert f'data-claim="{claim.pk}"' not in listing
    login(client, enterprise)
    assert client.get(reverse("riskfund:claims")).status_code == 403
    for user in (w.officer, w.office, w.finance, auditor):
        login(client, user)
        assert client.get(url).status_code == 200
    login(client, stranger)
    r = client.post(reverse("riskfund:claim_action", args=[claim.pk, "withdraw"]))
    assert r.status_code == 404
    login(client, w.finance)  # may see it but holds no step yet
    r = client.post(reverse("riskfund:claim_action", args=[claim.pk, "approve"]))
    assert r.status_code == 403


def test_exports_and_statistics(client, make_user):
    w = fund_world(make_user)
    claim = file_claim(w, principal="2000000.00")
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    services.claim_decide(claim=claim, actor=w.finance, approved=True)
    r = services.recovery_report(
        actor=w.officer, claim=claim, amount="500000.00", recovered_on=timezone.localdate()
    )
    services.recovery_confirm(actor=w.office, recovery=r)
    stats = claim_statistics(user=w.office)
    assert stats.total.compensated == Decimal("600000.00")
    assert stats.total.returned == Decimal("150000.00")
    assert stats.total.recovery_rate == Decimal("25.00")
    assert stats.by_region[0].label == "西宁市"
    login(client, w.office)
    page = client.get(reverse("riskfund:claim_stats")).content.decode()
    assert "25.00%" in page
    book = load_workbook(
        io.BytesIO(b"".join(client.get(reverse("riskfund:claim_stats_export")).streaming_content))
    )
    assert book.sheetnames == ["按机构", "按地区", "按年度"]
    rows = list(book["按机构"].iter_rows(values_only=True))
    assert rows[0][0] == "金融机构" and rows[1][4] == 600000
    export = client.get(reverse("riskfund:claims_export"))
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    assert header[0] == "申请编号" and first[0] == claim.number
    assert (
        first[header.index("补偿金额（元）")] == 600000 and first[header.index("状态")] == "已补偿"
    )


def test_workbench_cards(make_user):
    w = fund_world(make_user)
    claim = file_claim(w)
    card = claims_card(w.office)
    assert card.kind == "approver" and card.waiting_count == 1
    assert card.waiting_amount == claim.amount
    inst = claims_card(w.officer)
    assert inst.kind == "institution"
    assert dict((s, n) for s, _l, n in inst.by_status)["submitted"] == 1
    from django.template.loader import render_to_string

    html = render_to_string("riskfund/claims/_wb_approver.html", {"claims_card": card})
    assert "待我审批" in html
    html = render_to_string("riskfund/claims/_wb_institution.html", {"claims_card": inst})
    assert "风险补偿申请" in html
