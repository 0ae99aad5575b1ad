"""Signed requests: HMAC vectors, every refusal, nonces, idempotency and the purge."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from xinrong.accounts import signing
from xinrong.accounts.models import ApiIdempotencyRecord, ApiKey, ApiNonce, UserRole
from xinrong.accounts.services.api_keys import api_key_authenticate, api_key_create, api_key_revoke
from xinrong.accounts.services.api_requests import (
    IdempotentResult,
    api_replay_purge,
    api_request_verify,
    idempotent_run,
)
from xinrong.common.crypto import hmac_sm3
from xinrong.common.errors import ApplicationError

# RFC 4231 §4.2 and §4.3 (test cases 1 and 2): key, data, HMAC-SHA-256.
RFC4231 = [
    (
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
]


@pytest.mark.parametrize(("key", "data", "expected"), RFC4231)
def test_hmac_sha256_matches_rfc4231(key, data, expected):
    got = signing.hmac_hex(
        algorithm=signing.HMAC_SHA256, secret=key.decode("ascii"), message=data.decode("ascii")
    )
    assert got == expected


def _sm3_gmssl(data: bytes) -> bytes:
    from gmssl import func, sm3

    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def _hmac_sm3_reference(key: bytes, data: bytes) -> bytes:
    """RFC 2104 written out over gmssl's SM3, independent of xinrong's code."""
    if len(key) > 64:
        key = _sm3_gmssl(key)
    key = key + b"\x00" * (64 - len(key))
    ipad = bytes(k ^ 0x36 for k in key)
    opad = bytes(k ^ 0x5C for k in key)
    return _sm3_gmssl(opad + _sm3_gmssl(ipad + data))


@pytest.mark.parametrize(
    ("key", "data"),
    [
        (b"Jefe", b"what do ya want for nothing?"),
        (b"\x0b" * 20, b"Hi There"),
        (b"k" * 64, b""),
        (b"\xaa" * 131, "信融 · 一网通办".encode()),  # longer than a block: the key is hashed
    ],
)
def test_hmac_sm3_matches_independent_computations(key, data):
    ours = hmac_sm3(key, data)
    assert ours == _hmac_sm3_reference(key, data)
    if "sm3" in hashlib.algorithms_available:  # OpenSSL's SM3 through the stdlib hmac module
        assert ours == hmac.new(key, data, "sm3").digest()


def test_gmssl_sm3_has_the_standard_test_vector():
    # GB/T 32905-2016 example 1: SM3("abc")
    assert _sm3_gmssl(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_canonical_string_joins_method_path_time_nonce_and_body_digest():
    text = signing.canonical_string(
        method="post", path="/a/b?x=1", timestamp="1700000000", nonce="n" * 16, body=b"{}"
    )
    assert text.split("\n") == [
        "POST",
        "/a/b?x=1",
        "1700000000",
        "n" * 16,
        hashlib.sha256(b"{}").hexdigest(),
    ]


# ---------------------------------------------------------------- verification


@pytest.fixture
def issued(bank_admin):
    key, raw = api_key_create(
        organisation=bank_admin.organisation, name="信贷系统", actor=bank_admin
    )
    return key, raw


NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def _verify(key, secret, *, algorithm=signing.HMAC_SHA256, ts=None, nonce="nonce-0000000001",
            body=b'{"a":1}', sent_body=None, path="/api/v1/bank/x", signature=None, now=NOW,
            key_id=None):  # fmt: skip
    ts = str(int(now.timestamp())) if ts is None else str(ts)
    canonical = signing.canonical_string(
        method="POST", path=path, timestamp=ts, nonce=nonce, body=body
    )
    if signature is None:
        signature = signing.hmac_hex(algorithm=algorithm, secret=secret, message=canonical)
    return api_request_verify(
        key_id=key.prefix if key_id is None else key_id,
        timestamp=ts,
        nonce=nonce,
        signature_method=algorithm,
        signature=signature,
        http_method="POST",
        path=path,
        body=body if sent_body is None else sent_body,
        now=now,
    )


@pytest.mark.parametrize("algorithm", signing.SIGNATURE_METHODS)
def test_a_correctly_signed_request_names_its_key_and_spends_the_nonce(issued, algorithm):
    key, raw = issued
    assert _verify(key, raw, algorithm=algorithm) == key
    nonce = ApiNonce.objects.get()
    assert nonce.api_key_id == key.pk
    # kept until the request's own timestamp leaves the window
    assert nonce.expires_at == NOW + dt.timedelta(seconds=300)


def _refusal(issued, **kw) -> ApplicationError:
    key, raw = issued
    with pytest.raises(ApplicationError) as exc:
        _verify(key, kw.pop("secret", raw), **kw)
    return exc.value


@pytest.mark.parametrize(
    ("kw", "status", "code"),
    [
        ({"secret": "xr_wrong_secret"}, 401, "bad_signature"),
        ({"sent_body": b'{"a":2}'}, 401, "bad_signature"),
        ({"signature": "00" * 32}, 401, "bad_signature"),
        ({"ts": int(NOW.timestamp()) - 301}, 401, "timestamp_out_of_window"),
        ({"ts": int(NOW.timestamp()) + 301}, 401, "timestamp_out_of_window"),
        ({"ts": "yesterday"}, 401, "invalid_timestamp"),
        ({"nonce": "short"}, 401, "invalid_nonce"),
        ({"nonce": "含中文的随机串含中文的随机串含中文"}, 401, "invalid_nonce"),
        ({"algorithm": "HMAC-MD5", "signature": "00" * 16}, 401, "signature_method"),
        ({"key_id": "000000000000"}, 401, "unknown_key"),
        ({"key_id": ""}, 401, "signature_missing"),
    ],
)
def test_refusals_have_their_own_code_and_spend_no_nonce(issued, kw, status, code):
    err = _refusal(issued, **kw)
    assert (err.status, err.code) == (status, code)
    assert not ApiNonce.objects.exists()


def test_timestamps_at_the_edge_of_the_window_are_accepted(issued):
    key, raw = issued
    _verify(key, raw, ts=int(NOW.timestamp()) - 300, nonce="edge-past-000001")
    _verify(key, raw, ts=int(NOW.timestamp()) + 300, nonce="edge-future-0001")


def test_a_reused_nonce_is_refused_as_a_replay(issued):
    key, raw = issued
    _verify(key, raw)
    err = _refusal(issued, body=b'{"other":1}')
    assert (err.status, err.code) == (409, "nonce_reused")


def test_the_same_nonce_under_another_key_is_fine(issued, bank_admin):
    key, raw = issued
    other, other_raw = api_key_create(
        organisation=bank_admin.organisation, name="另一系统", actor=bank_admin
    )
    _verify(key, raw)
    assert _verify(other, other_raw) == other


def test_a_revoked_key_is_refused(issued, bank_admin):
    key, _raw = issued
    api_key_revoke(key=key, actor=bank_admin)
    err = _refusal(issued)
    assert (err.status, err.code) == (401, "key_revoked")


def test_a_key_whose_account_is_disabled_is_refused_saying_so(issued):
    key, _raw = issued
    type(key.service_user).objects.filter(pk=key.service_user_id).update(is_active=False)
    err = _refusal(issued)
    assert (err.status, err.code) == (401, "key_account_disabled")
    assert "已停用" in err.message


def test_a_key_issued_before_signing_cannot_sign_but_still_authenticates_plainly(issued):
    key, raw = issued
    ApiKey.objects.filter(pk=key.pk).update(signing_secret="")
    err = _refusal(issued)
    assert (err.status, err.code) == (401, "signing_not_enabled")
    assert api_key_authenticate(raw) == key


def test_the_signing_secret_is_encrypted_at_rest(issued):
    key, raw = issued
    with connection.cursor() as cursor:
        cursor.execute("SELECT signing_secret FROM accounts_apikey WHERE id = %s", [key.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("sm4g1:") and raw not in stored
    assert ApiKey.objects.get(pk=key.pk).signing_secret == raw


def test_institution_keys_act_as_officer_and_reviewer(issued):
    key, _raw = issued
    assert key.service_user.role_codes == {"loan_officer", "reviewer"}


def test_the_migration_gives_earlier_institution_keys_the_reviewer_role(issued, make_user):
    import importlib

    from django.apps import apps

    key, _raw = issued
    UserRole.objects.filter(user=key.service_user, role="reviewer").delete()
    gov = make_user("government", ["data_provider"])
    gov_key, _ = api_key_create(organisation=gov.organisation, name="报送", actor=gov)
    migration = importlib.import_module(
        "xinrong.accounts.migrations.0004_institution_api_keys_reviewer_role"
    )
    migration.grant(apps, None)
    migration.grant(apps, None)  # a second run adds nothing
    assert UserRole.objects.filter(user=key.service_user, role="reviewer").count() == 1
    assert not UserRole.objects.filter(user=gov_key.service_user, role="reviewer").exists()


# ---------------------------------------------------------------- nonces: purge


def test_purge_drops_nonces_past_their_window_and_replays_stay_refused(issued):
    key, raw = issued
    _verify(key, raw)
    later = NOW + dt.timedelta(seconds=301)
    assert api_replay_purge(now=later - dt.timedelta(seconds=2)) == (0, 0)
    assert api_replay_purge(now=later) == (1, 0)
    # the purged nonce's request is now too old to be accepted anyway
    err = _refusal(issued, now=later, ts=int(NOW.timestamp()))
    assert err.code == "timestamp_out_of_window"


def test_purge_command_reports_what_it_deleted(issued):
    key, _raw = issued
    ApiNonce.objects.create(api_key=key, nonce="x" * 16, expires_at=timezone.now())
    out = StringIO()
    call_command("apikeys", "purge", stdout=out)
    assert "nonces 1" in out.getvalue()
    assert not ApiNonce.objects.exists()


def test_purge_task_runs_inline(issued):
    from xinrong.accounts.tasks import api_replay_purge_task

    key, _raw = issued
    ApiNonce.objects.create(api_key=key, nonce="y" * 16, expires_at=timezone.now())
    assert api_replay_purge_task.enqueue().return_value == 1


# ---------------------------------------------------------------- idempotency


def _run(key, idem="idem-key-0001", body=b'{"a":1}', path="/p", effects=None, fail=False):
    effects = [] if effects is None else effects

    def run():
        effects.append(1)
        if fail:
            raise ApplicationError("boom", "失败", status=409)
        return 200, {"n": len(effects)}

    return idempotent_run(
        key=key, idempotency_key=idem, method="POST", path=path, body=body, run=run
    )


def test_a_retry_gets_the_stored_answer_without_running_again(issued):
    key, _raw = issued
    effects: list[int] = []
    first = _run(key, effects=effects)
    again = _run(key, effects=effects)
    assert (first.status, first.body, first.replayed) == (200, {"n": 1}, False)
    assert (again.status, again.body, again.replayed) == (200, {"n": 1}, True)
    assert effects == [1]


def test_the_same_key_with_another_request_is_refused(issued):
    key, _raw = issued
    _run(key)
    for kw in ({"body": b'{"a":2}'}, {"path": "/other"}):
        with pytest.raises(ApplicationError) as exc:
            _run(key, **kw)
        assert (exc.value.status, exc.value.code) == (422, "idempotency_mismatch")


def test_a_failed_write_stores_nothing_and_may_be_retried(issued):
    key, _raw = issued
    with pytest.raises(ApplicationError):
        _run(key, fail=True)
    assert not ApiIdempotencyRecord.objects.exists()
    assert _run(key).replayed is False


@pytest.mark.parametrize("idem", ["short", "x" * 129, "空格 不行的幂等键值"])
def test_idempotency_keys_must_be_8_to_128_token_characters(issued, idem):
    key, _raw = issued
    with pytest.raises(ApplicationError) as exc:
        _run(key, idem=idem)
    assert (exc.value.status, exc.value.code) == (422, "invalid_idempotency_key")


def test_idempotency_records_are_purged_after_their_retention(issued, settings):
    key, _raw = issued
    settings.XINRONG_API_IDEMPOTENCY_DAYS = 30
    _run(key)
    assert api_replay_purge(now=timezone.now() + dt.timedelta(days=29)) == (0, 0)
    assert api_replay_purge(now=timezone.now() + dt.timedelta(days=31)) == (0, 1)


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory SQLite test database refuses a second writer instead of queueing it; "
    "CI runs this on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_twins_apply_once_and_get_the_same_answer(bank_admin):
    import threading
    import time

    from django.db import connections

    key, _raw = api_key_create(organisation=bank_admin.organisation, name="并发", actor=bank_admin)
    effects: list[int] = []
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run() -> tuple[int, dict[str, int]]:
        effects.append(1)
        time.sleep(0.2)  # keep the first transaction open while the twin arrives
        return 201, {"effect": len(effects)}

    def twin() -> None:
        try:
            barrier.wait()
            results.append(
                idempotent_run(
                    key=key, idempotency_key="twin-0001", method="POST", path="/p", body=b"{}",
                    run=run,
                )
            )  # fmt: skip
        except Exception as exc:  # reported below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=twin) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, IdempotentResult) for r in results), results
    assert effects == [1]
    assert sorted(r.replayed for r in results) == [False, True]
    assert {(r.status, r.body["effect"]) for r in results} == {(201, 1)}
    assert ApiIdempotencyRecord.objects.count() == 1


def test_the_worked_example_of_the_guide_is_what_the_server_computes():
    """docs/bank-api.md §2 prints these values; keep the guide honest."""
    canonical = signing.canonical_string(
        method="POST",
        path="/api/v1/bank/applications/SQ20260601ABCD1234/approve",
        timestamp="1780300800",
        nonce="3f9a1c0e5b7d4a2f8e6c1b0a9d8e7f60",
        body=b'{"amount": "400000", "rate": "4.35", "term_months": 12}',
    )
    assert canonical.endswith("dda783e060b21e786cdda9c7c6bc7f9807199773537a469d95ce90043deecd02")
    key = "xr_0123456789ab_ExampleSecret-DoNotUse-0000000000000000000000"
    sha = signing.hmac_hex(algorithm=signing.HMAC_SHA256, secret=key, message=canonical)
    sm3 = signing.hmac_hex(algorithm=signing.HMAC_SM3, secret=key, message=canonical)
    assert sha == "3007820467064ab53ed23ddc3378061588cdd35a958378737d0d2a117a85ced2"
    assert sm3 == "c03905f7db4db3fd652d82e82558389c256f916a476e99cdb770801791ff136d"
