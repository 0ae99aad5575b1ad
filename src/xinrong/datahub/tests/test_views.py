import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.datahub.models import Fact
from xinrong.datahub.tests.test_pipeline import _csv
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


def test_template_has_chinese_headers_an_example_and_notes(client, tax_source):
    client.force_login(tax_source.provider)
    response = client.get(reverse("datahub:template", args=["tax"]))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = wb.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "所属期*" in headers and "统一社会信用代码" in headers
    assert sheet.max_row == 2  # the example row
    notes = [row[0] for row in wb.worksheets[1].iter_rows(values_only=True)]
    assert "纳税信用等级" in notes


def test_template_round_trips_through_the_pipeline(client, tax_source):
    """The downloaded template, filled in, is accepted as it is."""
    entity = MarketEntityFactory()
    client.force_login(tax_source.provider)
    wb = load_workbook(
        io.BytesIO(
            b"".join(client.get(reverse("datahub:template", args=["tax"])).streaming_content)
        )
    )
    ws = wb.worksheets[0]
    ws.delete_rows(2)
    # columns: code, name, region, period, tax paid, grade, arrears, legal rep, address, staff
    ws.append([entity.uscc, entity.name, "", "2024-06", 100, "A", 0, "", "", 12])
    buf = io.BytesIO()
    wb.save(buf)
    upload = SimpleUploadedFile("tax.xlsx", buf.getvalue())
    response = client.post(
        reverse("datahub:home"), {"source": tax_source.pk, "category": "tax", "file": upload}
    )
    assert response.status_code == 302
    assert Fact.objects.filter(entity=entity).count() == 1


def test_upload_with_bad_rows_shows_summary_and_error_file(client, tax_source):
    entity = MarketEntityFactory()
    client.force_login(tax_source.provider)
    content = _csv(
        [
            [entity.uscc, "", "2024-06", "100", "A", "0"],
            [entity.uscc, "", "2024-99", "100", "A", "0"],
        ]
    ).getvalue()
    response = client.post(
        reverse("datahub:home"),
        {
            "source": tax_source.pk,
            "category": "tax",
            "file": SimpleUploadedFile("tax.csv", content),
        },
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert 'data-stat="accepted">1<' in page and 'data-stat="rejected">1<' in page
    batch_id = int(response.url.rstrip("/").split("/")[-1])
    errors = client.get(reverse("datahub:batch_errors", args=[batch_id]))
    rows = list(
        load_workbook(io.BytesIO(b"".join(errors.streaming_content)))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert rows[0][-2:] == ("错误说明", "原行号")
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["所属期*"] == "2024-99" and line["原行号"] == 3
    assert line["错误说明"].startswith("所属期：")


def test_wrong_file_type_is_refused_in_chinese(client, tax_source):
    client.force_login(tax_source.provider)
    response = client.post(
        reverse("datahub:home"),
        {
            "source": tax_source.pk,
            "category": "tax",
            "file": SimpleUploadedFile("tax.pdf", b"%PDF"),
        },
    )
    assert response.status_code == 200
    assert "只接受 .xlsx 或 .csv 文件" in response.content.decode()


def test_bank_user_cannot_use_the_hub(client, bank_officer):
    client.force_login(bank_officer)
    assert client.get(reverse("datahub:home")).status_code == 403


def test_other_departments_cannot_see_a_batch(client, tax_source, make_user):
    entity = MarketEntityFactory()
    client.force_login(tax_source.provider)
    response = client.post(
        reverse("datahub:home"),
        {
            "source": tax_source.pk,
            "category": "tax",
            "file": SimpleUploadedFile(
                "t.csv", _csv([[entity.uscc, "", "2024-06", "1", "A", "0"]]).getvalue()
            ),
        },
    )
    other = make_user("government", ["data_provider"])
    client.force_login(other)
    assert client.get(response.url).status_code == 404


def test_operator_resolves_and_discards_queued_rows(client, tax_source, operator):
    from xinrong.datahub.models import UnresolvedRow

    target = MarketEntityFactory(name="真实名称有限公司")
    content = _csv(
        [["", "简称公司", "2024-06", "100", "A", "0"], ["", "另一个未知", "2024-06", "5", "A", "0"]]
    ).getvalue()
    client.force_login(tax_source.provider)
    client.post(
        reverse("datahub:home"),
        {"source": tax_source.pk, "category": "tax", "file": SimpleUploadedFile("q.csv", content)},
    )
    assert client.get(reverse("datahub:resolution")).status_code == 403
    client.force_login(operator)
    first, second = UnresolvedRow.objects.order_by("row_number")
    bad = client.post(
        reverse("datahub:resolution"),
        {"row": first.pk, "action": "resolve", "uscc": "123"},
        follow=True,
    )
    assert "长度" in bad.content.decode()
    client.post(
        reverse("datahub:resolution"), {"row": first.pk, "action": "resolve", "uscc": target.uscc}
    )
    client.post(reverse("datahub:resolution"), {"row": second.pk, "action": "discard"})
    fact = Fact.objects.get(entity=target)
    assert fact.period == "2024-06" and fact.amount == 100
    assert set(UnresolvedRow.objects.values_list("status", flat=True)) == {"resolved", "discarded"}
    page = client.get(reverse("datahub:resolution")).content.decode()
    assert "没有待关联的记录" in page


def test_quality_view_reports_rejections_coverage_conflicts_and_lateness(
    client, tax_source, operator
):
    from xinrong.datahub.models import Source

    entity = MarketEntityFactory()
    MarketEntityFactory()  # a second registered entity without tax data
    client.force_login(tax_source.provider)
    content = _csv(
        [[entity.uscc, "", "2024-06", "1", "A", "0"], [entity.uscc, "", "bad", "1", "A", "0"]]
    ).getvalue()
    client.post(
        reverse("datahub:home"),
        {"source": tax_source.pk, "category": "tax", "file": SimpleUploadedFile("t.csv", content)},
    )
    Source.objects.filter(pk=tax_source.pk).update(cadence="daily")
    client.force_login(operator)
    page = client.get(reverse("datahub:quality")).content.decode()
    row = page[page.index('data-source="tax"') :]
    row = row[: row.index("</tr>")]
    assert 'data-stat="rejection">50.0%' in row
    assert "50.0%" in row  # one of two registered entities covered
    assert 'data-late="1"' not in row  # delivered just now


def test_quality_view_flags_sources_that_never_delivered(client, tax_source, operator):
    client.force_login(operator)
    page = client.get(reverse("datahub:quality")).content.decode()
    assert 'data-late="1"' in page
