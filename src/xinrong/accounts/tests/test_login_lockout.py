"""One login path, one lockout: by account and address, with a back-off, revealing nothing."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from xinrong.accounts.models import SecurityEvent
from xinrong.accounts.services.login import login_failure_record, user_unlock

pytestmark = pytest.mark.django_db


def _login(client, username, password, ip="203.0.113.7"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _message(response) -> str:
    """Return the form's error text (the part a visitor reads)."""
    form = response.context["form"]
    return " ".join(str(e) for e in form.non_field_errors())


def _same_words(first: str, second: str) -> bool:
    """Whether two lockout messages say the same, their "until" times within a minute (two
    lockouts set a moment apart may fall either side of a minute's turn)."""
    times = [re.findall(r"(\d\d):(\d\d)", text) for text in (first, second)]
    minutes = [[int(h) * 60 + int(m) for h, m in found] for found in times]
    close = len(minutes[0]) == len(minutes[1]) and all(
        min(abs(a - b), 1440 - abs(a - b)) <= 1 for a, b in zip(*minutes, strict=True)
    )
    return close and re.sub(r"\d\d:\d\d", "HH:MM", first) == re.sub(r"\d\d:\d\d", "HH:MM", second)


def test_admin_login_page_sends_to_the_one_login_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "next=/admin/" in response.url


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_a_superuser_locked_on_the_login_page_cannot_log_in_through_the_admin(client, db):
    from xinrong.accounts.models import User

    User.objects.create_superuser("root", "root@example.cn", PASSWORD)
    for _ in range(3):
        _login(client, "root", "wrong-password-1")
    admin_post = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert "_auth_user_id" not in client.session
    assert admin_post.status_code in (302, 403, 405)
    assert client.get("/admin/").status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_the_lockout_message_is_the_same_for_existing_and_unknown_usernames(client, bank_officer):
    for _ in range(3):
        known = _login(client, bank_officer.username, "wrong-password-1")
        unknown = _login(client, "no_such_user_x", "wrong-password-1")
    assert _same_words(_message(known), _message(unknown)), (_message(known), _message(unknown))
    assert "锁定" in _message(known) or "频繁" in _message(known)
    # and one more attempt: still the same words for both
    assert _same_words(
        _message(_login(client, bank_officer.username, PASSWORD)),
        _message(_login(client, "no_such_user_x", PASSWORD)),
    )


def test_the_wrong_password_message_is_the_same_for_existing_and_unknown_usernames(
    client, bank_officer
):
    known = _login(client, bank_officer.username, "wrong-password-1")
    unknown = _login(client, "no_such_user_x", "wrong-password-1")
    assert _message(known) == _message(unknown)


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_an_attacker_locks_the_account_only_from_its_own_address(client, bank_officer):
    for _ in range(3):
        _login(client, bank_officer.username, "wrong-password-1", ip="198.51.100.9")
    assert _login(client, bank_officer.username, PASSWORD, ip="198.51.100.9").status_code == 200
    # the owner, from another address, still gets in
    assert _login(client, bank_officer.username, PASSWORD, ip="192.0.2.44").status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_LOCKOUT_SECONDS=60)
def test_repeated_lockouts_back_off_exponentially(bank_officer):
    ip = "198.51.100.9"
    waits = []
    for _round in range(3):
        for _ in range(2):
            throttle = login_failure_record(username=bank_officer.username, source_ip=ip)
        assert throttle.locked_until is not None
        waits.append((throttle.locked_until - timezone.now()).total_seconds())
        # the lock runs out; the next failures lock again, for longer
        throttle.locked_until = timezone.now()
        throttle.save(update_fields=["locked_until"])
    assert 50 < waits[0] <= 60
    assert 110 < waits[1] <= 120
    assert 230 < waits[2] <= 240


@override_settings(LOGIN_FAILURE_LIMIT=2)
def test_logins_lockouts_and_unlock_are_recorded(client, bank_officer, operator):
    _login(client, bank_officer.username, "wrong-password-1")
    _login(client, bank_officer.username, "wrong-password-1")
    actions = list(
        SecurityEvent.objects.filter(target_user=bank_officer)
        .exclude(action="user_create")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["login_failure", "login_failure", "login_lockout"]
    assert SecurityEvent.objects.filter(action="login_failure").first().ip_address == (
        "203.0.113.7"
    )
    user_unlock(user=bank_officer, actor=operator, source_ip="10.0.0.2")
    assert _login(client, bank_officer.username, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    actions = list(
        SecurityEvent.objects.filter(target_user=bank_officer)
        .exclude(action="user_create")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[3:] == ["user_unlock", "login_success", "logout"]


def test_logging_out_of_the_admin_is_recorded(client, db):
    from xinrong.accounts.models import User

    root = User.objects.create_superuser("root", "root@example.cn", PASSWORD)
    client.force_login(root)
    client.post("/admin/logout/", REMOTE_ADDR="203.0.113.8")
    event = SecurityEvent.objects.get(action="logout")
    assert event.actor == root and event.ip_address == "203.0.113.8"
