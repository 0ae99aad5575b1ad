"""Holes issue 10 found in credit: region of cultivation cases, buttons, logged-out downloads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinrong.credit.models import CultivationCase
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


def _case(make_user, division_code):
    dept = make_user("government", ["policy_publisher"])
    entity = MarketEntityFactory(division_code=division_code)
    return CultivationCase.objects.create(
        entity=entity,
        authority=dept.organisation,
        started_by=dept,
        plan="培植计划",
        score_at_start=560,
        grade_at_start="C",
    )


def test_a_substation_cannot_read_a_cultivation_case_outside_its_region(
    client, make_user, substation_operator
):
    outside = _case(make_user, "630102")  # 西宁 城东区
    inside = _case(make_user, "632801")  # 格尔木
    client.force_login(substation_operator)
    url = reverse("credit:cultivation_case", args=[outside.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("credit:cultivation_case", args=[inside.pk])).status_code == 200


def test_an_auditor_is_not_offered_model_activation(client, make_user, operator):
    from xinrong.credit.models import ScoreModel
    from xinrong.credit.tests.test_scoring import _card

    ScoreModel.objects.create(version=1, name="测试卡", card=_card().to_json())
    auditor = make_user("operator", ["auditor"])
    client.force_login(auditor)
    page = client.get("/credit/models/1/").content.decode()
    assert "测试卡" in page and 'id="activate-form"' not in page
    assert client.post("/credit/models/1/activate/").status_code == 403
    assert ScoreModel.objects.get(version=1).status != "active"
    client.force_login(operator)
    assert 'id="activate-form"' in client.get("/credit/models/1/").content.decode()


def test_a_logged_out_report_download_goes_to_the_login_page(client):
    response = client.get(reverse("credit:report_download", args=["SQ20260101000000AA"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
