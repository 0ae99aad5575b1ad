from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from xinrong.accounts.models import ApiKey, Organisation, User
from xinrong.accounts.services.api_keys import api_key_authenticate, api_key_create, api_key_revoke
from xinrong.accounts.services.login import login_failure_record, login_success_record
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.common.errors import ApplicationError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def test_organisation_create_rejects_unknown_region_naming_the_field():
    with pytest.raises(ApplicationError) as exc:
        organisation_create(name="某部门", kind="government", region_code="639999")
    assert exc.value.extra["field"] == "region_code"
    assert "639999" in exc.value.message
    assert not Organisation.objects.exists()


def test_substation_requires_a_region():
    with pytest.raises(ApplicationError) as exc:
        organisation_create(name="格尔木子站", kind="substation")
    assert exc.value.code == "region_required"


def test_organisation_uscc_is_validated_and_unique():
    from xinrong.enterprises.tests.factories import valid_uscc

    code = valid_uscc(seed=7)
    organisation_create(name="甲银行", kind="bank", uscc=code.lower())
    assert Organisation.objects.get().uscc == code
    with pytest.raises(ApplicationError) as exc:
        organisation_create(name="乙银行", kind="bank", uscc=code)
    assert exc.value.status == 409


def test_user_roles_must_fit_the_organisation_kind():
    bank = organisation_create(name="甲银行", kind="bank")
    with pytest.raises(ApplicationError) as exc:
        user_create(
            username="x", password="Abcdef12345", organisation=bank, roles=["fund_approver"]
        )
    assert exc.value.code == "role_not_allowed"
    assert not User.objects.filter(username="x").exists()


def test_weak_password_is_refused_with_the_rule():
    bank = organisation_create(name="甲银行", kind="bank")
    with pytest.raises(ApplicationError) as exc:
        user_create(
            username="x", password="onlyletterslong", organisation=bank, roles=["loan_officer"]
        )
    assert exc.value.extra["field"] == "password"
    assert "字母和数字" in exc.value.message


def test_duplicate_username_case_insensitive(bank_officer):
    with pytest.raises(ApplicationError) as exc:
        user_create(
            username=bank_officer.username.upper(),
            password="Abcdef12345",
            organisation=bank_officer.organisation,
            roles=["loan_officer"],
        )
    assert exc.value.code == "duplicate_username"


IP = "203.0.113.5"


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_repeated_failures_lock_the_account_and_success_clears_counter(bank_officer):
    for _ in range(2):
        throttle = login_failure_record(username=bank_officer.username, source_ip=IP)
    assert not throttle.is_locked()
    assert throttle.failures == 2
    throttle = login_failure_record(username=bank_officer.username, source_ip=IP)
    assert throttle.is_locked()
    assert bank_officer.is_locked()
    assert throttle.locked_until > timezone.now() + timedelta(seconds=590)
    login_success_record(user=bank_officer, source_ip="192.0.2.1")
    assert bank_officer.is_locked()  # success elsewhere does not lift the lock from IP
    login_success_record(user=bank_officer, source_ip=IP)
    assert not bank_officer.is_locked()


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=60)
def test_failures_outside_the_window_do_not_accumulate(bank_officer):
    from xinrong.accounts.models import LoginThrottle

    login_failure_record(username=bank_officer.username, source_ip=IP)
    login_failure_record(username=bank_officer.username, source_ip=IP)
    LoginThrottle.objects.filter(username=bank_officer.username.lower()).update(
        last_failure_at=timezone.now() - timedelta(seconds=120)
    )
    throttle = login_failure_record(username=bank_officer.username, source_ip=IP)
    assert throttle.failures == 1
    assert not bank_officer.is_locked()


def test_api_key_is_shown_once_stored_hashed_and_revocable(bank_admin):
    key, raw = api_key_create(
        organisation=bank_admin.organisation, name="信贷系统", actor=bank_admin
    )
    assert raw.startswith(f"xr_{key.prefix}_")
    stored = ApiKey.objects.get()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    assert api_key_authenticate(raw) == key
    assert api_key_authenticate(raw + "x") is None
    api_key_revoke(key=key, actor=bank_admin)
    assert api_key_authenticate(raw) is None


def test_loan_officer_cannot_issue_api_keys(bank_officer):
    with pytest.raises(PermissionDeniedError):
        api_key_create(organisation=bank_officer.organisation, name="x", actor=bank_officer)


def test_admin_of_one_bank_cannot_issue_keys_for_another(bank_admin, make_user):
    other = make_user("bank", ["institution_admin"])
    with pytest.raises(PermissionDeniedError):
        api_key_create(organisation=other.organisation, name="x", actor=bank_admin)


def test_departments_get_keys_for_data_delivery_but_enterprises_do_not(make_user, operator):
    gov = make_user("government", ["data_provider"])
    key, _raw = api_key_create(organisation=gov.organisation, name="报送", actor=gov)
    assert key.service_user.has_role("data_provider")
    ent = make_user("enterprise", ["enterprise_owner"])
    with pytest.raises(ApplicationError) as exc:
        api_key_create(organisation=ent.organisation, name="x", actor=operator)
    assert exc.value.code == "api_key_kind"


def test_phone_is_encrypted_at_rest(bank_officer):
    from django.db import connection

    User.objects.filter(pk=bank_officer.pk).update(phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [bank_officer.pk])
        (raw,) = cursor.fetchone()
    assert "13812345678" not in raw
    assert User.objects.get(pk=bank_officer.pk).phone == "13812345678"
