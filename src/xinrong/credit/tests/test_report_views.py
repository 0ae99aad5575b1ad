"""Credit report pages and API: download, buttons, public verification page and endpoint."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xinrong.credit.models import CreditReport, QueryLog
from xinrong.credit.services import reports as reports_services
from xinrong.credit.tests.reporting import deliver_facts, give_score, grant, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def entity(enterprise_user, make_user):
    entity = enterprise_user.organisation.market_entity
    deliver_facts(entity, make_user)
    give_score(entity)
    return entity


@pytest.fixture
def report(entity, enterprise_user):
    return reports_services.report_generate(user=enterprise_user, entity=entity, channel="page")


def test_enterprise_downloads_its_report_as_a_chinese_named_pdf(client, entity, enterprise_user):
    client.force_login(enterprise_user)
    response = client.post(reverse("credit:report_new", args=[entity.uscc]))
    assert response.status_code == 302
    report = CreditReport.objects.get()
    assert response["Location"] == reverse("credit:report_download", args=[report.number])
    pdf = client.get(response["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.content == pdf_bytes(report)
    disposition = pdf["Content-Disposition"]
    assert f'filename="credit-report-{report.number}.pdf"' in disposition
    name = f"企业信用报告-{entity.name}-{report.number}.pdf"
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert "no-store" in pdf["Cache-Control"]
    assert not QueryLog.objects.exists()


def test_archive_page_shows_the_right_report_button(
    client, entity, enterprise_user, bank_officer, make_user
):
    url = reverse("credit:archive", args=[entity.uscc])
    client.force_login(enterprise_user)
    assert 'id="report-download"' in client.get(url).content.decode()
    client.force_login(bank_officer)
    page = client.get(url).content.decode()
    assert 'id="report-download"' not in page and 'id="report-generate"' not in page
    grant(entity, enterprise_user, bank_officer.organisation)
    assert 'id="report-generate"' in client.get(url).content.decode()


def test_institution_without_authorisation_is_refused_with_403(client, entity, bank_officer):
    client.force_login(bank_officer)
    url = reverse("credit:report_new", args=[entity.uscc])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 403
        assert "生成信用报告需要企业的有效授权" in response.content.decode()
    assert not CreditReport.objects.exists()


def test_authorised_institution_confirms_then_downloads_and_the_query_is_logged(
    client, entity, enterprise_user, bank_officer
):
    grant(entity, enterprise_user, bank_officer.organisation)
    client.force_login(bank_officer)
    url = reverse("credit:report_new", args=[entity.uscc])
    page = client.get(url).content.decode()
    assert "本次生成将记入该企业的查询记录" in page
    response = client.post(url)
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    log = QueryLog.objects.get()
    assert "report" in log.categories
    client.force_login(enterprise_user)
    assert "信用报告" in client.get(reverse("credit:query_log")).content.decode()


def test_only_the_generating_organisation_downloads(client, report, bank_officer):
    client.force_login(bank_officer)
    response = client.get(reverse("credit:report_download", args=[report.number]))
    assert response.status_code == 404


def test_a_tampered_stored_file_is_not_served(client, report, enterprise_user):
    path = report.file.path
    with open(path, "r+b") as fh:
        fh.seek(100)
        fh.write(b"X")
    client.force_login(enterprise_user)
    response = client.get(reverse("credit:report_download", args=[report.number]))
    assert response.status_code == 409
    assert "SM3 摘要不一致" in response.content.decode()


def test_daily_limit_is_a_429_page(client, entity, enterprise_user, settings):
    settings.XINRONG_REPORT_DAILY_LIMIT = 1
    client.force_login(enterprise_user)
    url = reverse("credit:report_new", args=[entity.uscc])
    assert client.post(url).status_code == 302
    response = client.post(url)
    assert response.status_code == 429
    assert "每日上限" in response.content.decode()


def test_bad_purpose_is_shown_on_the_form(client, entity, enterprise_user):
    client.force_login(enterprise_user)
    response = client.post(reverse("credit:report_new", args=[entity.uscc]), {"purpose": "gossip"})
    assert response.status_code == 422
    assert not CreditReport.objects.exists()


def test_public_verify_page_confirms_the_right_file_and_rejects_a_modified_one(client, report):
    url = reverse("report_verify", args=[report.number])
    assert url == f"/verify/{report.number}"
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert report.entity.name in body and report.entity.uscc in body and report.sm3 in body
    data = pdf_bytes(report)
    ok = client.post(url, {"document": SimpleUploadedFile("r.pdf", data, "application/pdf")})
    assert ok.status_code == 200 and "真实有效" in ok.content.decode()
    modified = data.replace(b"/Producer", b"/Pr0ducer", 1)
    bad = client.post(url, {"document": SimpleUploadedFile("r.pdf", modified, "application/pdf")})
    assert "核验未通过" in bad.content.decode() and "真实有效" not in bad.content.decode()
    digest = client.post(url, {"digest": report.sm3})
    assert "真实有效" in digest.content.decode()
    wrong = client.post(url, {"digest": "a" * 63})
    assert wrong.status_code == 422 and "SM3 摘要应为64位十六进制字符" in wrong.content.decode()
    empty = client.post(url, {})
    assert empty.status_code == 422 and "请上传报告 PDF 文件" in empty.content.decode()


def test_verify_page_refuses_uploads_over_20_mb(client, report):
    url = reverse("report_verify", args=[report.number])
    just_over = b"%PDF" + b"0" * (20 * 1024 * 1024)
    response = client.post(url, {"document": SimpleUploadedFile("a.pdf", just_over)})
    assert response.status_code == 422 and "文件不能超过 20 MB" in response.content.decode()
    # far over: refused from the Content-Length, before the body is read
    far_over = b"%PDF" + b"0" * (21 * 1024 * 1024)
    response = client.post(url, {"document": SimpleUploadedFile("b.pdf", far_over)})
    assert response.status_code == 413 and "文件不能超过 20 MB" in response.content.decode()


def test_verify_page_unknown_and_malformed_numbers_are_404(client, db):
    unknown = client.get("/verify/XR20260101ABCDEFGHJK")
    assert unknown.status_code == 404 and "未找到编号为" in unknown.content.decode()
    malformed = client.get("/verify/not-a-number")
    assert malformed.status_code == 404 and "格式不正确" in malformed.content.decode()


def test_verify_lookup_redirects_to_the_number(client, report):
    response = client.get("/verify/", {"number": report.number.lower()})
    assert response.status_code == 302 and response["Location"] == f"/verify/{report.number}"
    assert client.get("/verify/").status_code == 200
    assert client.get("/verify/", {"number": "XR1"}).status_code == 404


def test_public_verify_api(client, report):
    url = f"/api/v1/credit/reports/{report.number}/verify"
    body = client.get(url).json()
    assert body["number"] == report.number and body["uscc"] == report.entity.uscc
    assert body["score"] == 688 and body["grade"] == "AA" and body["sm3"] == report.sm3
    assert body["checked"] == "" and body["matches"] is None
    assert client.get(url, {"digest": report.sm3}).json()["matches"] is True
    assert client.get(url, {"digest": "0" * 64}).json()["matches"] is False
    bad = client.get(url, {"digest": "zz"})
    assert bad.status_code == 422 and bad.json()["extra"]["field"] == "digest"
    missing = client.get("/api/v1/credit/reports/XR20260101ABCDEFGHJK/verify")
    assert missing.status_code == 404 and "未找到编号为" in missing.json()["message"]
    malformed = client.get("/api/v1/credit/reports/hello/verify")
    assert malformed.status_code == 404 and "格式不正确" in malformed.json()["message"]
