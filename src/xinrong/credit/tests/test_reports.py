"""The credit report: content read back with pdftotext, digest, access, query log, verification."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from gmssl import func, sm3

from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit.models import CreditReport, QueryLog
from xinrong.credit.reports.content import mask_identifiers, mask_person_names, money
from xinrong.credit.reports.numbers import normalise_number
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.selectors import reports as reports_selectors
from xinrong.credit.services import reports as reports_services
from xinrong.credit.tests.reporting import (
    SOMEONES_ID,
    SOMEONES_PHONE,
    deliver_facts,
    give_score,
    grant,
    pdf_bytes,
    pdf_fonts,
    pdf_joined,
    pdf_text,
)
from xinrong.enterprises.tests.factories import valid_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.XINRONG_PUBLIC_URL = "https://xinrong.example.gov.cn"


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


@pytest.fixture
def scored(entity, make_user):
    deliver_facts(entity, make_user)
    return give_score(entity)


def _generate(user, entity, **kw):
    return reports_services.report_generate(user=user, entity=entity, channel="page", **kw)


def _flat(text: str) -> str:
    return "".join(text.split())


def test_enterprise_report_reads_back_in_chinese_with_masked_persons(
    scored, entity, enterprise_user, tmp_path
):
    report = _generate(enterprise_user, entity)
    data = pdf_bytes(report)
    text = pdf_text(data, tmp_path)
    flat = _flat(text)
    for heading in (
        "企业信用报告",
        "基本信息",
        "信用评分",
        "信用信息",
        "负面信息",
        "异议信息",
        "查询记录",
        "报告验证",
    ):
        assert heading in text, heading
    assert entity.name in text and entity.uscc in text
    assert report.number in text
    assert f"https://xinrong.example.gov.cn/verify/{report.number}" in text
    # score, grade, model and dimensions from the profile
    assert "信用分688" in flat and "信用等级AA" in flat
    assert "基本信息72.5" in flat and "失信被执行人" in text
    # facts by category, amounts in yuan, choice codes in Chinese
    assert "¥1,000.00" in text and "¥150,000.00" in text
    assert "被执行人" in text and "轻微" in text
    # negative information with its retention end; arrears past retention (2015) left out
    assert "保存截止日期" in text
    assert "2029-08-20" in text and "2030-03-31" in text
    assert "2015-06" not in text
    # persons masked: the legal representative, names in facts, ID and phone numbers
    joined = pdf_joined(data, tmp_path)
    assert "马*" in text and "王**" in text
    for secret in ("马明", "王小明", SOMEONES_ID, SOMEONES_PHONE, valid_id_number(seed=1)):
        assert secret not in joined, secret
    assert "630***********1234" in joined and "138****5678" in joined
    # every page carries the number and "page X of Y"
    pages = text.split("\f")[: report.pages]
    assert report.pages >= 2
    for i, page in enumerate(pages, start=1):
        assert report.number in page
        assert f"第{i}页/共{report.pages}页" in _flat(page)
    # the enterprise's own report is not a query: nothing logged
    assert not QueryLog.objects.exists()


def test_report_embeds_the_cjk_truetype_font(scored, entity, enterprise_user, tmp_path):
    fonts = pdf_fonts(pdf_bytes(_generate(enterprise_user, entity)), tmp_path)
    line = next(line for line in fonts.splitlines() if "WenQuanYi" in line)
    assert re.search(r"TrueType\s+\S+\s+yes\s+yes\s+yes", line), fonts


def test_stored_digest_is_the_sm3_of_the_pdf_bytes(scored, entity, enterprise_user):
    report = _generate(enterprise_user, entity)
    data = pdf_bytes(report)
    assert data.startswith(b"%PDF")
    assert report.sm3 == sm3.sm3_hash(func.bytes_to_list(data))
    assert report.size == len(data)
    assert (report.score, report.grade, report.model_version) == (688, "AA", 1)
    assert report.file.name == f"reports/{report.generated_at:%Y/%m}/{report.number}.pdf"
    assert re.fullmatch(r"XR\d{8}[0-9A-HJKMNP-TV-Z]{10}", report.number)


def test_report_verifies_and_a_modified_copy_does_not(scored, entity, enterprise_user):
    report = _generate(enterprise_user, entity)
    data = pdf_bytes(report)
    ok = reports_selectors.report_verify(number=report.number, document=data)
    assert ok.matches is True and ok.checked == "file"
    assert (ok.entity_name, ok.uscc, ok.score, ok.grade) == (entity.name, entity.uscc, 688, "AA")
    tampered = data.replace(b"/Producer", b"/Pr0ducer", 1)
    assert len(tampered) == len(data)
    assert reports_selectors.report_verify(number=report.number, document=tampered).matches is False
    assert (
        reports_selectors.report_verify(number=report.number, document=data + b"\n").matches
        is False
    )
    assert reports_selectors.report_verify(number=report.number, digest=report.sm3.upper()).matches
    assert reports_selectors.report_verify(number=report.number, digest="0" * 64).matches is False
    number_only = reports_selectors.report_verify(number=report.number.lower())
    assert number_only.checked == "" and number_only.matches is None
    with pytest.raises(ApplicationError) as exc:
        reports_selectors.report_verify(number=report.number, digest="xyz")
    assert exc.value.status == 422 and exc.value.extra["field"] == "digest"


@pytest.mark.parametrize("number", ["", "XR2026", "XR20261341ABCDEFGHJK", "YY20260101ABCDEFGHJK"])
def test_malformed_report_numbers_are_404_with_a_chinese_message(number):
    with pytest.raises(NotFoundError) as exc:
        reports_selectors.report_verify(number=number)
    assert "报告编号" in exc.value.message and "格式不正确" in exc.value.message


def test_unknown_report_number_is_404():
    with pytest.raises(NotFoundError) as exc:
        reports_selectors.report_verify(number="XR20260101ABCDEFGHJK")
    assert "未找到编号为 XR20260101ABCDEFGHJK 的信用报告" in exc.value.message


def test_typed_numbers_are_read_forgivingly():
    assert normalise_number(" xr-20260101-abcdefghjo ") == "XR20260101ABCDEFGHJ0"
    assert normalise_number("XR20260101ABCDEFGHJI") == "XR20260101ABCDEFGHJ1"


def test_institution_without_authorisation_gets_403_and_no_report(
    scored, entity, bank_officer, gov_reviewer
):
    for user in (bank_officer, gov_reviewer):
        with pytest.raises(PermissionDeniedError):
            _generate(user, entity)
    assert not CreditReport.objects.exists() and not QueryLog.objects.exists()


def test_public_scope_authorisation_is_not_enough(scored, entity, enterprise_user, bank_officer):
    grant(entity, enterprise_user, bank_officer.organisation, scope="public")
    with pytest.raises(PermissionDeniedError) as exc:
        _generate(bank_officer, entity)
    assert exc.value.code == "authorisation_required"


def test_another_enterprise_cannot_generate(scored, entity, make_user):
    other = make_user("enterprise", ["enterprise_owner"])
    with pytest.raises(PermissionDeniedError):
        _generate(other, entity)


def test_authorised_institution_gets_its_report_and_the_query_is_logged(
    scored, entity, enterprise_user, bank_officer, make_user, tmp_path
):
    other_bank = make_user("bank", ["loan_officer"])
    grant(entity, enterprise_user, other_bank.organisation)
    archive_selectors.archive_read(
        user=other_bank, entity=entity, channel="page"
    )  # an earlier read
    auth = grant(entity, enterprise_user, bank_officer.organisation)
    report = _generate(bank_officer, entity)
    assert report.audience == "institution" and report.authorisation == auth
    assert report.purpose == "loan_application"
    log = QueryLog.objects.get(organisation=bank_officer.organisation)
    assert log.authorisation == auth and log.channel == "page"
    assert "report" in log.categories and "tax" in log.categories
    assert QueryLog.objects.count() == 2
    text = pdf_text(pdf_bytes(report), tmp_path)
    flat = _flat(text)
    assert "机构查询版" in text and bank_officer.organisation.name in text
    assert "信用分688" in flat and "¥1,000.00" in text
    # query records: counts by organisation type, not the other institutions' names
    assert "银行" in text and "近两年共有2次机构查询记录" in flat
    assert other_bank.organisation.name not in text
    # institutions never see negative information past retention
    assert "2015-06" not in text


def test_chosen_scope_report_holds_only_the_chosen_categories_and_no_score(
    scored, entity, enterprise_user, bank_officer, tmp_path
):
    grant(
        entity, enterprise_user, bank_officer.organisation, scope="chosen", categories=["utility"]
    )
    report = _generate(bank_officer, entity)
    text = pdf_text(pdf_bytes(report), tmp_path)
    assert "本次授权范围不含全部信息" in _flat(text)
    assert "688" not in text and "¥1,000.00" not in text  # no score, no tax facts
    assert "(2024)青0102执123号" not in text
    assert "青罚〔2024〕1号" in text  # penalties are public
    assert report.score is None and report.grade == ""
    assert QueryLog.objects.get().categories == ["report", "utility"]


def test_report_without_a_profile_says_no_score(entity, enterprise_user, tmp_path):
    text = pdf_text(pdf_bytes(_generate(enterprise_user, entity)), tmp_path)
    assert "暂无评分" in text and "无负面信息" in text


def test_institution_purpose_must_be_the_authorised_one(
    scored, entity, enterprise_user, bank_officer
):
    grant(entity, enterprise_user, bank_officer.organisation, purpose="post_loan")
    with pytest.raises(ApplicationError) as exc:
        _generate(bank_officer, entity, purpose="guarantee")
    assert exc.value.status == 422 and exc.value.extra["field"] == "purpose"
    with pytest.raises(ApplicationError):
        _generate(bank_officer, entity, purpose="gossip")
    assert not CreditReport.objects.exists() and not QueryLog.objects.exists()


def test_daily_limit_per_user_and_entity(scored, entity, enterprise_user, settings):
    settings.XINRONG_REPORT_DAILY_LIMIT = 2
    _generate(enterprise_user, entity)
    _generate(enterprise_user, entity)
    with pytest.raises(ApplicationError) as exc:
        _generate(enterprise_user, entity)
    assert exc.value.status == 429 and exc.value.code == "report_daily_limit"
    assert "每日上限（2 份）" in exc.value.message
    assert CreditReport.objects.count() == 2


def test_own_query_records_list_institutions(
    scored, entity, enterprise_user, bank_officer, tmp_path
):
    grant(entity, enterprise_user, bank_officer.organisation)
    archive_selectors.archive_read(user=bank_officer, entity=entity, channel="api")
    text = pdf_text(pdf_bytes(_generate(enterprise_user, entity)), tmp_path)
    assert bank_officer.organisation.name in text and "贷款审批" in text


def test_generation_queries_do_not_grow_with_the_facts(
    entity, enterprise_user, bank_officer, make_user
):
    grant(entity, enterprise_user, bank_officer.organisation)
    deliver_facts(entity, make_user)
    give_score(entity)
    with CaptureQueriesContext(connection) as few:
        _generate(bank_officer, entity)
    deliver_facts(entity, make_user, extra_tax_rows=40)
    with CaptureQueriesContext(connection) as many:
        _generate(bank_officer, entity)
    assert len(many) == len(few)


def test_missing_font_falls_back_to_the_cid_font_and_says_so(
    scored, entity, enterprise_user, settings, tmp_path, caplog
):
    settings.XINRONG_CJK_FONT = str(tmp_path / "no-such-font.ttc")
    with caplog.at_level(logging.WARNING, logger="xinrong.credit.reports"):
        report = _generate(enterprise_user, entity)
    assert "STSong-Light" in caplog.text and "not found" in caplog.text
    data = pdf_bytes(report)
    assert "STSong-Light" in pdf_fonts(data, tmp_path)
    assert "企业信用报告" in pdf_text(data, tmp_path)


def test_masking_helpers():
    assert mask_identifiers(f"身份证{SOMEONES_ID}") == "身份证630***********1234"
    assert mask_identifiers("卡号6222021234567890123") == "卡号622202*********0123"
    assert mask_identifiers("电话+8613812345678") == "电话+86138****5678"
    plain = "金额150000.00，日期2024-02-01"
    assert mask_identifiers(plain) == plain
    names = "欧阳娜娜、西宁某某商贸有限公司"
    assert mask_person_names(names) == "欧阳**、西宁某某商贸有限公司"
    assert money("1234.5") == "¥1,234.50" and money(None) == ""


def test_report_is_chinese_whatever_the_ui_language(
    scored, entity, enterprise_user, bank_officer, tmp_path
):
    from django.utils import translation

    grant(entity, enterprise_user, bank_officer.organisation)
    with translation.override("en"):
        own = _generate(enterprise_user, entity)
        institution = _generate(bank_officer, entity)
    text = pdf_text(pdf_bytes(own), tmp_path)
    assert "纳税（2）" in text and "Tax" not in text
    text = pdf_text(pdf_bytes(institution), tmp_path)
    assert "银行" in text and "Bank" not in text and "贷款审批" in text


def test_storage_failure_is_a_clear_503_and_nothing_is_kept(
    scored, entity, enterprise_user, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", full_disk)
    with pytest.raises(ApplicationError) as exc:
        _generate(enterprise_user, entity)
    assert exc.value.status == 503 and "保存失败" in exc.value.message
    assert not CreditReport.objects.exists()
