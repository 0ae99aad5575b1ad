import pytest
from django.test import override_settings

from xinrong.common import crypto
from xinrong.common.errors import ApplicationError

SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"  # GB/T 32905 A.1


def test_sm3_matches_the_standard_example():
    assert crypto.sm3_hex(b"abc") == SM3_ABC


def test_sm3_fallback_gives_the_same_digest(monkeypatch):
    monkeypatch.setattr(crypto.hashlib, "algorithms_available", set())
    assert crypto.sm3_hex(b"abc") == SM3_ABC


def test_encryption_round_trips_and_hides_the_plaintext():
    token = crypto.encrypt_text("630102198506011234")
    assert token.startswith(crypto.CIPHERTEXT_PREFIX)
    assert "630102198506011234" not in token
    assert crypto.decrypt_text(token) == "630102198506011234"


def test_same_plaintext_encrypts_differently_each_time():
    assert crypto.encrypt_text("13800001111") != crypto.encrypt_text("13800001111")


def test_tampered_ciphertext_is_detected():
    token = crypto.encrypt_text("secret")
    body = token[len(crypto.CIPHERTEXT_PREFIX) :]
    middle = len(body) // 2  # a full data character, not base64 padding bits
    flipped = body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1 :]
    with pytest.raises(ApplicationError) as exc:
        crypto.decrypt_text(crypto.CIPHERTEXT_PREFIX + flipped)
    assert exc.value.code == "crypto_tampered"


def test_another_key_cannot_decrypt():
    token = crypto.encrypt_text("secret")
    with (
        override_settings(FIELD_ENCRYPTION_KEY="another-key-entirely"),
        pytest.raises(ApplicationError),
    ):
        crypto.decrypt_text(token)


def test_blind_index_is_deterministic_keyed_and_purpose_bound():
    a = crypto.blind_index("630102198506011234", purpose="person")
    assert a == crypto.blind_index("630102198506011234", purpose="person")
    assert a != crypto.blind_index("630102198506011234", purpose="other")
    assert "630102198506011234" not in a
    with override_settings(FIELD_ENCRYPTION_KEY="another-key-entirely"):
        assert a != crypto.blind_index("630102198506011234", purpose="person")
