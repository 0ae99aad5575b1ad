"""Every write of a role, a login, an account or a key is recorded and visible to the auditor."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from conftest import PASSWORD
from xinrong.accounts.models import ApiKey, SecurityEvent, User, UserRole
from xinrong.accounts.services.api_keys import api_key_create, api_key_revoke
from xinrong.accounts.services.login import user_unlock
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create, user_password_change, user_roles_set

pytestmark = pytest.mark.django_db


def _actions(after: int = 0) -> list[str]:
    return list(
        SecurityEvent.objects.filter(id__gt=after).order_by("id").values_list("action", flat=True)
    )


def test_account_and_key_writes_are_recorded_with_who_and_where(operator, bank_admin):
    first = SecurityEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    org = organisation_create(
        name="测试村镇银行", kind="bank", actor=operator, source_ip="10.9.8.7"
    )
    user = user_create(
        username="cz_admin",
        password=PASSWORD,
        organisation=org,
        roles=["institution_admin"],
        actor=operator,
        source_ip="10.9.8.7",
    )
    user_roles_set(
        user=user, roles=["institution_admin", "reviewer"], actor=operator, source_ip="10.9.8.7"
    )
    user_password_change(
        user=user, old_password=PASSWORD, new_password="Qh-login-7391", source_ip="10.9.8.6"
    )
    key, _raw = api_key_create(organisation=org, name="信贷系统", actor=user, source_ip="10.9.8.6")
    api_key_revoke(key=key, actor=operator, source_ip="10.9.8.7")
    assert _actions(first) == [
        "organisation_create",
        "user_create",
        "user_roles_change",
        "password_change",
        "api_key_issue",
        "api_key_revoke",
    ]
    roles = SecurityEvent.objects.get(action="user_roles_change")
    assert roles.actor == operator and roles.actor_organisation == operator.organisation
    assert roles.target_user == user and roles.target_organisation == org
    assert roles.details == {
        "before": ["institution_admin"],
        "after": ["institution_admin", "reviewer"],
    }
    assert roles.ip_address == "10.9.8.7"
    revoke = SecurityEvent.objects.get(action="api_key_revoke")
    assert revoke.target_api_key == key and revoke.details["prefix"] == key.prefix
    # the record holds no secret
    assert _raw not in str(list(SecurityEvent.objects.values_list("details", flat=True)))


def test_security_events_cannot_be_changed_or_deleted(operator):
    event = SecurityEvent.objects.filter(actor=None).first() or SecurityEvent.objects.first()
    assert event is not None
    event.action = "login_success"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_the_admin_cannot_write_users_roles_or_keys(operator):
    root = User.objects.create_superuser("root", "root@example.cn", PASSWORD)
    request = RequestFactory().get("/admin/")
    request.user = root
    for model in (User, UserRole, ApiKey, SecurityEvent):
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            continue
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)


def test_auditor_sees_the_security_log_with_filters(client, make_user, operator, bank_officer):
    auditor = make_user("operator", ["auditor"])
    user_unlock(user=bank_officer, actor=operator, source_ip="10.0.0.5")
    client.force_login(auditor)
    url = reverse("accounts:security_log")
    body = client.get(url).content.decode()
    assert "解除锁定" in body and "10.0.0.5" in body
    filtered = client.get(url, {"action": "api_key_issue"}).content.decode()
    assert "10.0.0.5" not in filtered
    by_user = client.get(url, {"q": bank_officer.username}).content.decode()
    assert "10.0.0.5" in by_user


def test_substation_auditor_sees_only_its_region(client, make_user, operator):
    local = make_user("bank", ["institution_admin"], region_code="632801")
    far = make_user("bank", ["institution_admin"], region_code="630102")
    user_unlock(user=local, actor=operator, source_ip="10.0.0.11")
    user_unlock(user=far, actor=operator, source_ip="10.0.0.22")
    auditor = make_user("substation", ["auditor"], region_code="632801")
    client.force_login(auditor)
    body = client.get(reverse("accounts:security_log")).content.decode()
    assert "10.0.0.11" in body
    assert "10.0.0.22" not in body


@pytest.mark.parametrize("who", ["bank_officer", "enterprise_user"])
def test_others_cannot_open_the_operator_security_log(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("accounts:security_log"))
    # an organisation's own members see at most their own organisation's events
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        user = request.getfixturevalue(who)
        orgs = set(
            SecurityEvent.objects.restrict(user).values_list("target_organisation_id", flat=True)
        )
        assert orgs <= {user.organisation_id}


def test_the_menu_offers_the_security_log_to_the_auditor_only(client, make_user, bank_officer):
    auditor = make_user("operator", ["auditor"])
    client.force_login(auditor)
    assert reverse("accounts:security_log") in client.get(reverse("web:home")).content.decode()
    client.force_login(bank_officer)
    assert reverse("accounts:security_log") not in client.get(reverse("web:home")).content.decode()


def test_the_record_shows_details_in_words_not_codes(client, operator, make_user):
    from xinrong.accounts.services.organisations import organisation_create

    organisation_create(
        name="格尔木市税务局", kind="government", region_code="632801", actor=operator
    )
    client.force_login(make_user("operator", ["auditor"]))
    body = client.get("/accounts/security-log/").content.decode()
    assert "机构类型</span>：政府部门" in body and "格尔木市" in body
    assert ">kind<" not in body and "government" not in body
