"""Two-factor login through the real forms: who must, enrolment, codes, recovery codes, lockout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from xinrong.accounts import permissions
from xinrong.accounts.models import LoginThrottle, SecurityAction, SecurityEvent
from xinrong.accounts.services import twofactor
from xinrong.accounts.tests.support import totp_code_for

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/two-factor/verify/"
ENROL = "/accounts/two-factor/enrol/"


def _password_login(user: Any, next_url: str = "") -> tuple[Client, Any]:
    client = Client()
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/accounts/login/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    return client, client.get(response["Location"])


def _enrolled(user: Any) -> TOTPDevice:
    return twofactor.totp_device_demo_enrol(user=user)


def test_who_needs_a_second_factor(
    operator, substation_operator, gov_reviewer, bank_admin, bank_officer, enterprise_user
):
    assert permissions.needs_second_factor(operator)
    assert permissions.needs_second_factor(substation_operator)
    assert permissions.needs_second_factor(gov_reviewer)
    assert permissions.needs_second_factor(bank_admin)
    assert not permissions.needs_second_factor(bank_officer)
    assert not permissions.needs_second_factor(enterprise_user)


def test_required_user_enrols_before_any_page(bank_admin):
    client, response = _password_login(bank_admin)
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    for path in ("/", "/accounts/password/", "/accounts/two-factor/"):
        assert client.get(path)["Location"].startswith(ENROL)
    page = client.get(ENROL)
    html = page.content.decode()
    assert "<svg" in html and "必须使用两步验证" in html
    device = TOTPDevice.objects.get(user=bank_admin, confirmed=False)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', html)
    assert secret is not None
    assert secret.group(1).replace(" ", "") == twofactor.totp_secret_text(device).replace(" ", "")
    # a wrong code is refused in Chinese
    wrong = client.post(ENROL, {"code": "000000" if _now(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    done = client.post(ENROL, {"code": _now(device)})
    assert done["Location"] == "/accounts/two-factor/recovery-codes/"
    codes_page = client.get(done["Location"]).content.decode()
    codes = re.findall(r'<li class="col">([a-z2-7]{8})</li>', codes_page)
    assert len(codes) == 10
    download = client.get("/accounts/two-factor/recovery-codes/download/")
    assert download["Content-Disposition"].startswith("attachment")
    assert all(c in download.content.decode() for c in codes)
    client.post("/accounts/two-factor/recovery-codes/", {})
    # shown once: the page and the download are gone
    assert client.get("/accounts/two-factor/recovery-codes/").status_code == 302
    assert client.get("/accounts/two-factor/recovery-codes/download/").status_code == 302
    assert client.get("/").status_code == 200
    actions = set(
        SecurityEvent.objects.filter(target_user=bank_admin).values_list("action", flat=True)
    )
    assert {SecurityAction.OTP_ENROL, SecurityAction.RECOVERY_CODES_ISSUE} <= actions


def _now(device: TOTPDevice) -> str:
    return twofactor.totp_current_code(device)


def test_login_with_a_code_and_the_session_api(operator):
    _enrolled(operator)
    client, response = _password_login(operator, next_url="/accounts/users/")
    assert response["Location"].startswith(VERIFY)
    api = client.get("/api/v1/auth/me")
    assert api.status_code == 401 and "两步验证" in api.json()["message"]
    page = client.get(response["Location"])
    assert "演示环境" not in page.content.decode()
    ok = client.post(VERIFY, {"code": totp_code_for(operator.username), "next": "/accounts/users/"})
    assert ok["Location"] == "/accounts/users/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/auth/me").status_code != 401


def test_recovery_code_is_used_once(gov_reviewer):
    _enrolled(gov_reviewer)
    codes = twofactor.recovery_codes_issue(user=gov_reviewer)
    client, _r = _password_login(gov_reviewer)
    ok = client.post(VERIFY, {"code": codes[0].upper()})
    assert ok.status_code == 302 and not ok["Location"].startswith(VERIFY)
    assert twofactor.recovery_codes_left(gov_reviewer) == 9
    assert SecurityEvent.objects.filter(action=SecurityAction.RECOVERY_CODE_USE).exists()
    again, _r = _password_login(gov_reviewer)
    refused = again.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 200 and "验证码不正确" in refused.content.decode()


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_wrong_codes_count_towards_the_lockout(substation_operator):
    _enrolled(substation_operator)
    client, _r = _password_login(substation_operator)
    for _n in range(2):
        wrong = client.post(VERIFY, {"code": "12345a"})
        assert wrong.status_code == 200
        assert "验证码不正确" in wrong.content.decode()
    locked = client.post(VERIFY, {"code": "12345a"})
    assert locked["Location"] == "/accounts/login/"
    assert (
        SecurityEvent.objects.filter(
            action=SecurityAction.OTP_FAILURE, target_user=substation_operator
        ).count()
        == 3
    )
    assert LoginThrottle.objects.get(username=substation_operator.username).is_locked()
    # logged out, and the password form refuses the locked name
    assert client.get("/")["Location"].startswith("/accounts/login/")
    again = client.post(
        "/accounts/login/", {"username": substation_operator.username, "password": PASSWORD}
    )
    assert "已被锁定" in again.content.decode()


def test_optional_user_logs_in_without_and_may_turn_it_on(bank_officer):
    client, response = _password_login(bank_officer)
    assert response.status_code == 200
    security = client.get("/accounts/two-factor/").content.decode()
    assert "未开启" in security
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=bank_officer, confirmed=False)
    assert client.post(ENROL, {"code": _now(device)}).status_code == 302
    _client2, response2 = _password_login(bank_officer)
    assert response2["Location"].startswith(VERIFY)
    # turning it off again (own reset) is recorded
    client.post("/accounts/two-factor/recovery-codes/", {})
    client.post("/accounts/two-factor/reset/")
    assert not TOTPDevice.objects.filter(user=bank_officer).exists()
    assert SecurityEvent.objects.filter(action=SecurityAction.OTP_DISABLE).exists()


@override_settings(XINRONG_DEMO_LOGINS=True)
def test_demo_code_shown_only_in_demo_mode_for_demo_devices(operator):
    device = _enrolled(operator)
    client, response = _password_login(operator)
    page = client.get(response["Location"]).content.decode()
    assert "演示环境" in page and _now(device) in page
    device.name = twofactor.DEVICE_NAME
    device.save()
    assert "演示环境" not in client.get(VERIFY).content.decode()


def test_operator_admin_resets_another_users_device(operator, bank_admin, bank_officer):
    _enrolled(bank_admin)
    officer_client = Client()
    officer_client.force_login(bank_officer)
    refused = officer_client.post(f"/accounts/users/{bank_admin.pk}/two-factor/reset/")
    assert refused.status_code in (403, 404)
    assert TOTPDevice.objects.filter(user=bank_admin).exists()
    admin = Client()
    admin.force_login(operator)
    edit = admin.get(f"/accounts/users/{bank_admin.pk}/edit/").content.decode()
    assert "user-second-factor-reset" in edit
    done = admin.post(f"/accounts/users/{bank_admin.pk}/two-factor/reset/")
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=bank_admin).exists()
    event = SecurityEvent.objects.get(action=SecurityAction.OTP_RESET)
    assert event.actor_id == operator.pk and event.target_user_id == bank_admin.pk
    # the next login must enrol again
    _client, response = _password_login(bank_admin)
    assert response["Location"].startswith(ENROL)
