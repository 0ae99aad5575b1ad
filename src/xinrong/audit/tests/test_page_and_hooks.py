"""The auditor's page (who sees which rows, filters, export audited) and the hooks in other apps."""

from __future__ import annotations

import pytest
from django.test import Client

from xinrong.accounts.services.security import security_event_record
from xinrong.audit.models import AuditEntry
from xinrong.audit.services import audit_record

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_sees_every_entry_in_beijing_time_and_in_words(operator):
    entry = audit_record(category="config", action="credit.model_activate", actor=operator)
    html = _client(operator).get("/audit/").content.decode()
    assert f'data-seq="{entry.seq}"' in html
    assert "启用评分模型" in html and "credit.model_activate" not in html
    local = entry.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert local.strftime("%Y-%m-%d %H:%M") in html


def test_an_empty_list_says_so(operator):
    html = _client(operator).get("/audit/?uscc=91630000000000000X").content.decode()
    assert "没有符合条件的审计日志条目" in html


def test_filters_by_uscc_and_request_id(operator):
    a = audit_record(category="data_read", action="credit.query.page", enterprise_uscc="A" * 18)
    b = audit_record(category="data_read", action="credit.query.page", enterprise_uscc="B" * 18)
    html = _client(operator).get("/audit/", {"uscc": "a" * 18}).content.decode()
    assert f'data-seq="{a.seq}"' in html and f'data-seq="{b.seq}"' not in html


def test_a_substation_auditor_sees_only_entries_of_its_region(make_user):
    auditor = make_user("substation", ["auditor"], region_code="632801")
    inside = audit_record(category="security", action="login_success", region_code="632801")
    outside = audit_record(category="security", action="login_success", region_code="630102")
    no_region = audit_record(category="security", action="login_success")
    html = _client(auditor).get("/audit/").content.decode()
    assert f'data-seq="{inside.seq}"' in html
    assert f'data-seq="{outside.seq}"' not in html
    assert f'data-seq="{no_region.seq}"' not in html


@pytest.mark.parametrize("role", ["bank_admin", "enterprise_user", "gov_reviewer"])
def test_others_are_refused(request, role):
    user = request.getfixturevalue(role)
    assert _client(user).get("/audit/").status_code == 403
    assert _client(user).get("/audit/export").status_code == 403


def test_the_export_is_itself_an_audit_entry(operator):
    audit_record(category="security", action="login_success", actor=operator)
    response = _client(operator).get("/audit/export", {"category": "security"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.category == "export" and last.action == "download"
    assert last.actor_username == operator.username and last.target_label == "/audit/export"
    assert last.details["query"] == "category=security"
    assert last.request_id == response["X-Request-ID"]


def test_a_security_event_is_chained_with_its_source_address(operator):
    event = security_event_record(
        action="login_failure", username="nobody", source_ip="10.1.2.3", details={"n": 1}
    )
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.category == "security" and entry.action == "login_failure"
    assert entry.actor_username == "nobody" and entry.source_ip == "10.1.2.3"
    assert entry.details["security_event"] == event.pk


def test_a_failed_login_through_the_form_is_audited(operator):
    Client().post("/accounts/login/", {"username": operator.username, "password": "wrong"})
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.category == "security"
    assert entry.actor_username == operator.username


def test_an_institutions_read_of_non_public_data_is_audited_with_the_uscc(
    enterprise_user, bank_officer
):
    from xinrong.credit.models import QueryLog
    from xinrong.credit.services.archive import query_log_record
    from xinrong.credit.tests.reporting import grant
    from xinrong.enterprises.models import MarketEntity

    entity = MarketEntity.objects.get(uscc=enterprise_user.organisation.uscc)
    auth = grant(entity, enterprise_user, bank_officer.organisation)
    log = query_log_record(
        entity=entity, user=bank_officer, authorisation=auth, channel="page", categories=["tax"]
    )
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.category == "data_read" and entry.action == "credit.query.page"
    assert entry.enterprise_uscc == entity.uscc and entry.region_code == entity.division_code
    assert entry.actor_user_id == bank_officer.pk
    assert entry.actor_organisation_id == bank_officer.organisation_id
    assert entry.details["query_log"] == log.pk and QueryLog.objects.filter(pk=log.pk).exists()
