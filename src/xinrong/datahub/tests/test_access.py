"""The holes issue 10 found in the data hub: who may deliver, and what a sub-station sees."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xinrong.datahub.models import Fact, IngestBatch, UnresolvedRow
from xinrong.datahub.tests.test_pipeline import _csv as pipeline_csv
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


def _csv(rows: list[list[str]]) -> bytes:
    return pipeline_csv(rows).getvalue()


def _deliver(client, source, rows) -> IngestBatch:
    client.force_login(source.provider)
    response = client.post(
        reverse("datahub:home"),
        {"source": source.pk, "category": "tax", "file": SimpleUploadedFile("t.csv", _csv(rows))},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return IngestBatch.objects.latest("pk")


def _api_rows(entity) -> dict:
    return {
        "source": "tax",
        "category": "tax",
        "rows": [
            {
                "uscc": entity.uscc,
                "period": "2024-06",
                "tax_paid": "1",
                "tax_grade": "D",
                "arrears": "99999",
            }
        ],
    }


@pytest.mark.parametrize("roles", [["auditor"], ["policy_publisher"], ["fund_approver"]])
def test_only_data_reporters_may_add_facts_through_the_api(client, tax_source, make_user, roles):
    entity = MarketEntityFactory()
    if roles == ["auditor"]:
        user = make_user("operator", roles)
    else:  # a colleague in the same department as the source, without the reporter role
        user = make_user("government", roles, org=tax_source.organisation)
    client.force_login(user)
    response = client.post(
        "/api/v1/datahub/batches", json.dumps(_api_rows(entity)), content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert "数据报送员" in response.json()["message"]
    assert not Fact.objects.filter(entity=entity).exists()
    assert not IngestBatch.objects.exists()


def test_the_departments_reporter_still_delivers_through_the_api(client, tax_source):
    entity = MarketEntityFactory()
    client.force_login(tax_source.provider)
    response = client.post(
        "/api/v1/datahub/batches", json.dumps(_api_rows(entity)), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Fact.objects.filter(entity=entity).count() == 1


def test_a_substation_does_not_see_batches_of_departments_outside_its_region(
    client, tax_source, substation_operator
):
    entity = MarketEntityFactory()
    batch = _deliver(client, tax_source, [[entity.uscc, "", "2024-99", "1", "A", "0"]])
    client.force_login(substation_operator)
    assert client.get(reverse("datahub:batch_detail", args=[batch.pk])).status_code == 404
    assert client.get(reverse("datahub:batch_errors", args=[batch.pk])).status_code == 404
    assert client.get(f"/api/v1/datahub/batches/{batch.pk}").status_code == 404
    home = client.get(reverse("datahub:home")).content.decode()
    assert tax_source.name not in home


def test_a_substation_sees_the_batches_of_departments_in_its_region(
    client, substation_operator, make_user
):
    from xinrong.datahub.services.sources import source_create

    local = make_user("government", ["data_provider"], region_code="632801")
    source = source_create(
        code="golmud_tax",
        name="格尔木市税务局",
        organisation=local.organisation,
        categories=["tax"],
    )
    source.provider = local
    entity = MarketEntityFactory()
    client.force_login(local)
    client.post(
        reverse("datahub:home"),
        {
            "source": source.pk,
            "category": "tax",
            "file": SimpleUploadedFile(
                "t.csv", _csv([[entity.uscc, "", "2024-06", "1", "A", "0"]])
            ),
        },
    )
    batch = IngestBatch.objects.get(source=source)
    client.force_login(substation_operator)
    assert client.get(reverse("datahub:batch_detail", args=[batch.pk])).status_code == 200


def test_a_substation_quality_view_lists_only_its_regions_departments(
    client, tax_source, substation_operator
):
    client.force_login(substation_operator)
    page = client.get(reverse("datahub:quality"))
    assert page.status_code == 200
    assert tax_source.name not in page.content.decode()


def test_a_substation_is_offered_no_upload_form_with_other_departments_sources(
    client, tax_source, substation_operator
):
    client.force_login(substation_operator)
    page = client.get(reverse("datahub:home")).content.decode()
    assert 'id="upload-form"' not in page
    assert 'id="no-upload"' in page


def test_an_auditor_sees_queued_rows_without_buttons_and_cannot_resolve(
    client, tax_source, make_user
):
    auditor = make_user("operator", ["auditor"])
    _deliver(client, tax_source, [["", "简称公司", "2024-06", "100", "A", "0"]])
    row = UnresolvedRow.objects.get()
    client.force_login(auditor)
    page = client.get(reverse("datahub:resolution")).content.decode()
    assert "简称公司" in page
    assert 'value="resolve"' not in page and 'value="discard"' not in page
    client.post(reverse("datahub:resolution"), {"row": row.pk, "action": "discard"})
    row.refresh_from_db()
    assert row.status == "open"
