"""Dispute API: the enterprise files and follows disputes; bad input is a 4xx naming the field."""

import datetime as dt

import pytest
from django.utils import timezone

from xinrong.accounts.services.api_keys import api_key_create
from xinrong.credit.models import Dispute
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.services import repair as repair_services
from xinrong.credit.tests.conftest import pdf

pytestmark = pytest.mark.django_db

URL = "/api/v1/credit/disputes"


def _post(client, body):
    return client.post(URL, body, content_type="application/json")


def test_enterprise_files_lists_and_reads_a_dispute(client, enterprise_user, tax_fact, tax_clerk):
    client.force_login(enterprise_user)
    response = _post(
        client,
        {
            "fact_id": tax_fact.pk,
            "kind": "correction",
            "claim": "实缴税额应为800元",
            "proposed_values": {"tax_paid": 800},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted" and body["kind_label"] == "更正"
    assert body["due_on"] == (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    assert body["proposed_values"] == {"tax_paid": "800.00"}
    assert body["original_values"]["tax_paid"] == "1000.00" and body["overdue"] is False
    page = client.get(URL).json()
    assert page["count"] == 1 and page["results"][0]["id"] == body["id"]
    disputes_services.dispute_resolve_correct(
        dispute=Dispute.objects.get(), actor=tax_clerk, note="已更正"
    )
    detail = client.get(f"{URL}/{body['id']}").json()
    assert detail["status"] == "corrected" and detail["resolution"] == "已更正"
    assert [e["kind"] for e in detail["events"]] == ["filed", "corrected"]
    assert detail["events"][1]["data"]["changes"]["tax_paid"]["after"] == "800.00"
    assert client.get(f"{URL}?status=corrected").json()["count"] == 1
    assert client.get(f"{URL}?status=submitted").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "correction", "claim": "x"}, "fact_id", "必填"),
        ({"fact_id": 0, "kind": "correction", "claim": "x"}, "fact_id", "不能小于"),
        ({"fact_id": "FACT", "kind": "objection", "claim": "x"}, "fact_id", "整数"),
        ({"kind": "complaint", "claim": "x"}, "kind", "允许范围"),
        ({"kind": "objection", "claim": ""}, "claim", "长度不能少于"),
        ({"kind": "objection", "claim": "x" * 2001}, "claim", "2000"),
        ({"kind": "objection", "claim": "坏\u0000字"}, "claim", "控制字符"),
        (
            {"kind": "correction", "claim": "x", "proposed_values": {"tax_paid": "八百"}},
            "proposed_values.tax_paid",
            "应为数字",
        ),
        (
            {"kind": "correction", "claim": "x", "proposed_values": {"tax_paid": 1e20}},
            "proposed_values.tax_paid",
            "数值过大",
        ),
        (
            {"kind": "correction", "claim": "x", "proposed_values": {"wrong": "1"}},
            "proposed_values.wrong",
            "不属于",
        ),
        ({"kind": "correction", "claim": "x"}, "proposed_values", "至少一个"),
    ],
)
def test_bad_requests_are_422_naming_the_field_in_chinese(
    client, enterprise_user, tax_fact, body, field, words
):
    client.force_login(enterprise_user)
    if field != "fact_id":
        body = {"fact_id": tax_fact.pk} | body
    response = _post(client, body)
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["extra"]["field"] == field and words in error["message"], error
    assert not Dispute.objects.exists()


def test_unknown_or_foreign_facts_are_4xx(client, enterprise_user, tax_fact, make_user):
    client.force_login(enterprise_user)
    for fact_id in (tax_fact.pk + 1000, 2**62):
        response = _post(client, {"fact_id": fact_id, "kind": "objection", "claim": "x"})
        assert response.status_code == 404 and response.json()["extra"]["field"] == "fact_id"
    assert client.get(f"{URL}/{2**62}").status_code == 404
    client.force_login(make_user("enterprise", ["enterprise_owner"]))
    response = _post(client, {"fact_id": tax_fact.pk, "kind": "objection", "claim": "x"})
    assert response.status_code == 403 and "本企业" in response.json()["message"]


def test_a_second_open_dispute_is_a_conflict(client, enterprise_user, tax_fact):
    client.force_login(enterprise_user)
    body = {"fact_id": tax_fact.pk, "kind": "objection", "claim": "有误"}
    assert _post(client, body).status_code == 201
    response = _post(client, body)
    assert response.status_code == 409 and response.json()["code"] == "dispute_open"


def test_institutions_cannot_file_or_list(client, tax_fact, bank_admin):
    _key, raw = api_key_create(organisation=bank_admin.organisation, name="信贷", actor=bank_admin)
    body = {"fact_id": tax_fact.pk, "kind": "objection", "claim": "x"}
    response = client.post(URL, body, content_type="application/json", HTTP_X_API_KEY=raw)
    assert response.status_code == 403
    assert client.get(URL, HTTP_X_API_KEY=raw).status_code == 403


def test_a_department_system_lists_the_disputes_about_its_data(
    client, enterprise_user, tax_fact, tax_clerk
):
    disputes_services.dispute_file(
        actor=enterprise_user, fact=tax_fact, kind="objection", claim="有误"
    )
    _key, raw = api_key_create(organisation=tax_clerk.organisation, name="异议", actor=tax_clerk)
    page = client.get(f"{URL}?overdue=false", HTTP_X_API_KEY=raw).json()
    assert page["count"] == 1 and page["results"][0]["source"] == tax_clerk.source.name


def test_archive_api_flags_disputed_and_repaired_facts(
    client, entity, enterprise_user, make_penalty, tax_clerk, bank_admin, operator
):
    disputed = make_penalty("general", "2024-01-10")
    repaired = make_penalty("general", "2024-01-11")
    disputes_services.dispute_file(
        actor=enterprise_user, fact=disputed, kind="objection", claim="有误"
    )
    application = repair_services.repair_apply(
        actor=enterprise_user, fact=repaired, statement="已整改", evidence=[pdf()]
    )
    repair_services.repair_approve(application=application, actor=tax_clerk)
    repair_services.repair_approve(application=application, actor=operator)  # confirmation
    client.force_login(enterprise_user)
    facts = {
        f["id"]: f for f in client.get(f"/api/v1/credit/archive/{entity.uscc}").json()["facts"]
    }
    assert facts[disputed.pk]["disputed"] is True and facts[disputed.pk]["repaired"] is False
    assert facts[repaired.pk]["repaired"] is True and facts[repaired.pk]["disputed"] is False
    client.logout()
    _key, raw = api_key_create(organisation=bank_admin.organisation, name="信贷", actor=bank_admin)
    body = client.get(f"/api/v1/credit/archive/{entity.uscc}", HTTP_X_API_KEY=raw).json()
    ids = {f["id"]: f for f in body["facts"]}
    assert repaired.pk not in ids and ids[disputed.pk]["disputed"] is True


def test_lone_surrogates_are_refused_not_stored(client, enterprise_user, tax_fact):
    client.force_login(enterprise_user)
    head = f'{{"fact_id": {tax_fact.pk}, '
    raw = head + '"kind": "objection", "claim": "bad \\ud800 text"}'
    response = client.post(URL, raw, content_type="application/json")
    assert response.status_code == 422 and response.json()["extra"]["field"] == "claim"
    raw = head + '"kind": "correction", "claim": "x", "proposed_values": {"address": "\\udfff"}}'
    response = client.post(URL, raw, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "proposed_values.address"
