"""Password rules: common and guessable passwords are refused, in Chinese."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from conftest import PASSWORD

GUESSABLE = [
    "xinrong2026",
    "Xinrong@2026",
    "xinrong123456",
    "Aa1Aa1Aa1Aa1",
    "1111111111a",
    "abc123abc123",
    "qwerty123456",
    "abcdefg12345",
    "a1b2c3d4e5f6",
    "Password2026",
]


@pytest.mark.parametrize("password", GUESSABLE)
def test_guessable_passwords_are_refused_in_chinese(password):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        validate_password(password)
    text = "".join(exc.value.messages)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text


@pytest.mark.parametrize("password", [PASSWORD, "Qh-login-7391", "Newpass12345", "Admin123456x"])
def test_ordinary_strong_passwords_pass(password):
    validate_password(password)
