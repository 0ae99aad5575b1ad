"""Every password rule speaks the page's language: Chinese in zh-hans, English in en."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.utils import translation

from xinrong.accounts.models import User

CJK = re.compile(r"[\u4e00-\u9fff]")
# each one breaks at least one rule: too short, common, numeric, similar, guessable, classes
BAD = ["abc", "password", "12345678901", "zhangwei2026x", "aaaaaaaaaaaa", "abcdefghijkl"]


def messages(password: str, lang: str) -> list[str]:
    user = User(username="zhangwei2026x", display_name="张伟")
    with translation.override(lang):
        try:
            validate_password(password, user)
        except ValidationError as exc:
            return [str(m) for m in exc.messages]
    return []


@pytest.mark.parametrize("password", BAD)
def test_chinese_in_chinese(password):
    got = messages(password, "zh-hans")
    assert got
    for message in got:
        assert CJK.search(message), message
        assert not re.search(r"\b(password|This|must|too)\b", message), message


@pytest.mark.parametrize("password", BAD)
def test_english_in_english(password):
    got = messages(password, "en")
    assert got
    for message in got:
        assert not CJK.search(message), message


def test_too_short_names_the_length_in_chinese():
    assert messages("Ab1x", "zh-hans")[0] == "密码长度太短。密码必须包含至少 10 个字符。"
    with translation.override("zh-hans"):
        assert all(CJK.search(t) for t in password_validators_help_texts())


@pytest.mark.django_db
def test_the_add_user_form_shows_password_rules_with_the_other_errors(client, bank_admin):
    from django.urls import reverse

    client.force_login(bank_admin)
    response = client.post(
        reverse("accounts:user_create", args=[bank_admin.organisation_id]),
        {"username": "ok_name", "display_name": "", "password": "short1", "roles": ["reviewer"]},
    )
    text = response.content.decode()
    assert 'data-error-of="display_name"' in text
    assert 'data-error-of="password"' in text and "密码长度太短" in text
