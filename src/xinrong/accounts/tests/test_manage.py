"""Operators and institution admins edit and disable organisations and users (issue 12)."""

from __future__ import annotations

import io

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from openpyxl import load_workbook

from conftest import PASSWORD
from xinrong.accounts.models import Organisation, SecurityAction, SecurityEvent, User
from xinrong.accounts.permissions import can
from xinrong.accounts.services.api_keys import api_key_create
from xinrong.accounts.services.organisations import organisation_create

pytestmark = pytest.mark.django_db


def _events(action: str, **kw) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(action=action, **kw))


# ---------------------------------------------------------------- organisations


def test_operator_edits_an_organisation_and_it_is_logged(client, operator, bank_admin):
    org = bank_admin.organisation
    client.force_login(operator)
    url = reverse("accounts:organisation_edit", args=[org.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"name": "青海新名银行", "contact": "李明 0971-1234567", "region_code": "630100"}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.contact, org.region_code) == (
        "青海新名银行",
        "李明 0971-1234567",
        "630100",
    )
    (event,) = _events(SecurityAction.ORGANISATION_UPDATE, target_organisation=org)
    assert event.details["changes"]["name"][1] == "青海新名银行"


def test_institution_admin_may_not_edit_or_disable_organisations(client, bank_admin):
    org = bank_admin.organisation
    assert not can(bank_admin, "accounts.organisation_edit", org)
    client.force_login(bank_admin)
    assert client.get(reverse("accounts:organisation_edit", args=[org.pk])).status_code == 403
    assert client.get(reverse("accounts:organisation_status", args=[org.pk])).status_code == 403


def test_a_second_organisation_with_the_same_name_is_refused(client, operator):
    client.force_login(operator)
    url = reverse("accounts:organisation_list")
    first = client.post(url, {"name": "海东农商银行", "kind": "bank", "region_code": ""})
    assert first.status_code == 302
    again = client.post(url, {"name": "海东农商银行", "kind": "bank", "region_code": ""})
    assert again.status_code == 200
    assert "机构名称“海东农商银行”已被其他机构使用" in again.content.decode()
    assert Organisation.objects.filter(name="海东农商银行").count() == 1
    # the database refuses it too
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="海东农商银行", kind="government")
    # enterprises may share a name (their USCC tells them apart)
    Organisation.objects.create(name="城中便利店", kind="individual_business")
    Organisation.objects.create(name="城中便利店", kind="individual_business")


def test_disabling_an_organisation_stops_logins_and_keys_and_reenable_restores(
    client, operator, bank_admin, make_user
):
    org = bank_admin.organisation
    officer = make_user("bank", ["loan_officer"], org=org)
    _key, raw = api_key_create(organisation=org, name="信贷系统", actor=bank_admin)
    client.force_login(operator)
    url = reverse("accounts:organisation_status", args=[org.pk])
    empty = client.post(url, {"reason": ""})
    assert "理由必须填写" in empty.content.decode()
    assert client.post(url, {"reason": "机构申请暂停使用平台"}).status_code == 302
    org.refresh_from_db()
    officer.refresh_from_db()
    assert not org.is_active and not officer.is_active
    client.logout()
    assert client.get("/api/v1/accounts/me", headers={"X-API-Key": raw}).status_code == 401
    login = client.post(
        reverse("accounts:login"), {"username": officer.username, "password": PASSWORD}
    )
    assert login.status_code == 200  # refused, the form again
    client.force_login(operator)
    assert client.post(url, {"reason": "机构恢复使用平台"}).status_code == 302
    officer.refresh_from_db()
    assert officer.is_active
    (event,) = _events(SecurityAction.ORGANISATION_DISABLE, target_organisation=org)
    assert event.details["reason"] == "机构申请暂停使用平台"
    assert _events(SecurityAction.ORGANISATION_ENABLE, target_organisation=org)


# ---------------------------------------------------------------- users


def test_institution_admin_edits_its_own_users_roles_and_phone(client, bank_admin, make_user):
    officer = make_user("bank", ["loan_officer"], org=bank_admin.organisation)
    client.force_login(bank_admin)
    url = reverse("accounts:user_edit", args=[officer.pk])
    bad = client.post(url, {"display_name": "王五", "phone": "abc", "roles": ["reviewer"]})
    assert "手机号“abc”格式不正确" in bad.content.decode()
    ok = client.post(url, {"display_name": "王五", "phone": "0971-7654321", "roles": ["reviewer"]})
    assert ok.status_code == 302
    officer = User.objects.get(pk=officer.pk)
    assert officer.display_name == "王五" and officer.phone == "0971-7654321"
    assert officer.role_codes == {"reviewer"}
    assert _events(SecurityAction.USER_UPDATE, target_user=officer)
    assert _events(SecurityAction.USER_ROLES_CHANGE, target_user=officer)


def test_institution_admin_cannot_touch_another_organisations_users(client, bank_admin, make_user):
    other = make_user("bank", ["loan_officer"])
    assert not can(bank_admin, "accounts.user_edit", other)
    client.force_login(bank_admin)
    assert client.get(reverse("accounts:user_edit", args=[other.pk])).status_code == 404
    assert (
        client.post(
            reverse("accounts:user_status", args=[other.pk]), {"reason": "离职停用账号"}
        ).status_code
        == 404
    )


def test_a_disabled_user_cannot_log_in_and_the_reason_is_logged(client, bank_admin, make_user):
    officer = make_user("bank", ["loan_officer"], org=bank_admin.organisation)
    client.force_login(bank_admin)
    url = reverse("accounts:user_status", args=[officer.pk])
    assert client.post(url, {"reason": "员工离职"}).status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active
    (event,) = _events(SecurityAction.USER_DISABLE, target_user=officer)
    assert event.details["reason"] == "员工离职" and event.actor == bank_admin
    client.logout()
    login = client.post(
        reverse("accounts:login"), {"username": officer.username, "password": PASSWORD}
    )
    assert login.status_code == 200 and "用户名或密码不正确" in login.content.decode()
    client.force_login(bank_admin)
    assert client.post(url, {"reason": "员工返岗"}).status_code == 302
    officer.refresh_from_db()
    assert officer.is_active


def test_nobody_disables_itself(client, bank_admin):
    assert not can(bank_admin, "accounts.user_disable", bank_admin)
    client.force_login(bank_admin)
    response = client.post(
        reverse("accounts:user_status", args=[bank_admin.pk]), {"reason": "测试停用自己"}
    )
    assert response.status_code == 403


def test_a_disabled_service_account_cannot_use_its_api_key(client, operator, bank_admin):
    key, raw = api_key_create(
        organisation=bank_admin.organisation, name="信贷系统", actor=bank_admin
    )
    client.force_login(operator)
    url = reverse("accounts:user_status", args=[key.service_user.pk])
    assert client.post(url, {"reason": "系统下线停用"}).status_code == 302
    client.logout()
    assert client.get("/api/v1/accounts/me", headers={"X-API-Key": raw}).status_code == 401


def test_username_and_phone_rules_are_named_in_chinese(client, bank_admin):
    client.force_login(bank_admin)
    url = reverse("accounts:user_create", args=[bank_admin.organisation_id])
    response = client.post(
        url,
        {
            "username": "audit gm/data*",
            "display_name": "张三",
            "phone": "abc",
            "password": "Qh-Lx83kdP2m",
            "roles": ["loan_officer"],
        },
    )
    text = response.content.decode()
    assert "用户名“audit gm/data*”不符合规则" in text and "长度 3–30 位" in text
    assert "手机号“abc”格式不正确" in text and "0971-1234567" in text
    assert not User.objects.filter(username="audit gm/data*").exists()
    ok = client.post(
        url,
        {
            "username": "li.ming_01",
            "display_name": "李明",
            "phone": "+86 138 0000 1111",
            "password": "Qh-Lx83kdP2m",
            "roles": ["loan_officer"],
        },
    )
    assert ok.status_code == 302
    assert User.objects.get(username="li.ming_01").phone == "13800001111"


# ---------------------------------------------------------------- the users list and its export


def test_user_list_is_scoped_and_exports_typed_excel(client, bank_admin, make_user):
    officer = make_user("bank", ["loan_officer"], org=bank_admin.organisation)
    stranger = make_user("bank", ["loan_officer"])
    client.force_login(bank_admin)
    page = client.get(reverse("accounts:user_list")).content.decode()
    assert officer.username in page and stranger.username not in page
    empty = client.get(reverse("accounts:user_list"), {"q": "没有这个人"}).content.decode()
    assert "没有符合条件的账号" in empty
    response = client.get(reverse("accounts:user_list"), {"export": "xlsx"})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "用户名"
    names = {r[0] for r in rows[1:]}
    assert officer.username in names and stranger.username not in names
    joined = ws.cell(row=2, column=8)
    assert joined.is_date  # a date cell, not text


def test_user_list_is_refused_to_a_loan_officer(client, bank_officer):
    client.force_login(bank_officer)
    assert client.get(reverse("accounts:user_list")).status_code == 403


def test_organisation_create_refuses_duplicates_in_the_service():
    organisation_create(name="青海省税务局", kind="government")
    from xinrong.common.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        organisation_create(name="青海省税务局 ", kind="government")
    assert exc.value.extra["field"] == "name"


def test_the_security_log_reads_the_new_events_in_words(client, operator, bank_admin):
    client.force_login(operator)
    org = bank_admin.organisation
    client.post(
        reverse("accounts:organisation_edit", args=[org.pk]),
        {"name": "青海改名银行", "contact": "", "region_code": "630100"},
    )
    client.post(reverse("accounts:organisation_status", args=[org.pk]), {"reason": "暂停使用"})
    page = client.get(reverse("accounts:security_log")).content.decode()
    assert "修改机构信息" in page and "停用机构" in page
    assert "名称：" in page and "→ 青海改名银行" in page and "西宁市" in page
    assert "一并停用或恢复的账号" in page and "暂停使用" in page
    assert "changes" not in page and "region_code" not in page


def test_the_region_is_chosen_by_name_not_typed_as_a_code(client, operator, bank_admin):
    """The organisation forms offer the province's regions by name; a typed code is refused."""
    org = bank_admin.organisation
    client.force_login(operator)
    url = reverse("accounts:organisation_edit", args=[org.pk])
    page = client.get(url).content.decode()
    assert '<select name="region_code"' in page and "海西蒙古族藏族自治州 · 格尔木市" in page
    assert "全省（不限区划）" in page
    create = client.get(reverse("accounts:organisation_list")).content.decode()
    assert '<input type="text" name="region_code"' not in create
    response = client.post(url, {"name": org.name, "contact": "", "region_code": "999999"})
    assert response.status_code == 200
    assert 'data-field-error="region_code"' in response.content.decode()
