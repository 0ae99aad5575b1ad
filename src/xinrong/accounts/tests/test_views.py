import pytest
from django.test import override_settings
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_page_is_chinese_by_default(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert "登录信融平台" in response.content.decode()


def test_login_and_logout(client, bank_officer):
    response = _login(client, bank_officer.username, PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("web:home")).status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_locked_account_refuses_even_the_right_password(client, bank_officer):
    for _ in range(3):
        response = _login(client, bank_officer.username, "wrong-password-1")
        assert response.status_code == 200
    assert "已被锁定" in response.content.decode()
    response = _login(client, bank_officer.username, PASSWORD)
    assert response.status_code == 200
    assert "已被锁定" in response.content.decode()


def test_wrong_password_message_names_the_limit(client, bank_officer):
    response = _login(client, bank_officer.username, "nope-nope-1")
    assert "用户名或密码不正确" in response.content.decode()


def test_password_change_checks_old_password_and_rules(client, bank_officer):
    client.force_login(bank_officer)
    url = reverse("accounts:password_change")
    bad = client.post(
        url,
        {"old_password": "x", "new_password": "Newpass12345", "new_password_again": "Newpass12345"},
    )
    assert "原密码不正确" in bad.content.decode()
    weak = client.post(
        url, {"old_password": PASSWORD, "new_password": "short1", "new_password_again": "short1"}
    )
    assert weak.status_code == 200
    ok = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password": "Newpass12345",
            "new_password_again": "Newpass12345",
        },
    )
    assert ok.status_code == 302
    bank_officer.refresh_from_db()
    assert bank_officer.check_password("Newpass12345")


def test_operator_creates_an_institution_and_its_admin(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("accounts:organisation_list"),
        {"name": "测试农商银行", "kind": "bank", "uscc": "", "region_code": ""},
    )
    assert response.status_code == 302
    from xinrong.accounts.models import Organisation, User

    org = Organisation.objects.get(name="测试农商银行")
    response = client.post(
        reverse("accounts:user_create", args=[org.pk]),
        {
            "username": "nsh_admin",
            "display_name": "管理员",
            "phone": "",
            "password": "Admin123456x",
            "roles": ["institution_admin"],
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="nsh_admin").has_role("institution_admin")


def test_organisation_form_shows_region_error_in_chinese(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("accounts:organisation_list"),
        {"name": "X子站", "kind": "substation", "uscc": "", "region_code": ""},
    )
    assert response.status_code == 200
    assert "子站必须指定所辖行政区划" in response.content.decode()


def test_bank_user_cannot_open_organisation_admin(client, bank_officer):
    client.force_login(bank_officer)
    assert client.get(reverse("accounts:organisation_list")).status_code == 403


def test_api_key_page_shows_secret_once(client, bank_admin):
    client.force_login(bank_admin)
    response = client.post(reverse("accounts:api_key_list"), {"name": "信贷系统对接"})
    body = response.content.decode()
    assert 'id="new-secret"' in body
    again = client.get(reverse("accounts:api_key_list")).content.decode()
    assert 'id="new-secret"' not in again
    assert "信贷系统对接" in again


def test_operator_issues_and_revokes_keys_for_an_institution(client, operator, bank_admin):
    from xinrong.accounts.models import ApiKey

    client.force_login(operator)
    org = bank_admin.organisation
    url = reverse("accounts:organisation_api_keys", args=[org.pk])
    body = client.post(url, {"name": "代建对接"}).content.decode()
    assert 'id="new-secret"' in body
    key = ApiKey.objects.get(organisation=org)
    response = client.post(reverse("accounts:api_key_revoke", args=[key.pk]))
    assert response.status_code == 302 and response.url == url
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_institution_admin_cannot_revoke_another_institutions_key(client, bank_admin, make_user):
    from xinrong.accounts.services.api_keys import api_key_create

    other = make_user("bank", ["institution_admin"])
    key, _raw = api_key_create(organisation=other.organisation, name="x", actor=other)
    client.force_login(bank_admin)
    # a key the admin may not manage is not even found (its existence is not revealed)
    assert client.post(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
    page = reverse("accounts:organisation_api_keys", args=[other.organisation.pk])
    assert client.get(page).status_code == 404


def test_substation_cannot_revoke_a_key_of_an_institution_outside_its_region(
    client, substation_operator, make_user
):
    from xinrong.accounts.services.api_keys import api_key_create

    province_bank = make_user("bank", ["institution_admin"])
    key, _raw = api_key_create(
        organisation=province_bank.organisation, name="x", actor=province_bank
    )
    client.force_login(substation_operator)
    assert client.post(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_substation_creates_organisations_only_inside_its_region(client, substation_operator):
    from xinrong.accounts.models import Organisation

    client.force_login(substation_operator)
    url = reverse("accounts:organisation_list")
    outside = client.post(url, {"name": "西宁某银行", "kind": "bank", "region_code": "630102"})
    assert outside.status_code == 200
    assert "子站只能在本区划内创建机构" in outside.content.decode()
    assert not Organisation.objects.filter(name="西宁某银行").exists()
    inside = client.post(url, {"name": "格尔木某银行", "kind": "bank", "region_code": "632801"})
    assert inside.status_code == 302
    assert Organisation.objects.filter(name="格尔木某银行", region_code="632801").exists()


def test_a_new_password_must_differ_from_the_old_one(client, bank_admin):
    client.force_login(bank_admin)
    page = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password": PASSWORD, "new_password_again": PASSWORD},
    )
    assert page.status_code == 200
    assert "新密码不能与原密码相同" in page.content.decode()
