"""Usernames are codes, not prose: the account pages mark them not to be translated and speak of
a person by name, so the plain-words check (no English word on a Chinese page) holds on them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinrong.common.tests.plain_words import problems

pytestmark = pytest.mark.django_db


def _words(html: str) -> list[str]:
    return problems(html)


@pytest.fixture
def reviewer(make_user, bank_admin):
    return make_user(
        "bank",
        ["loan_officer"],
        org=bank_admin.organisation,
        username="reviewer",
        display_name="审批人员",
    )


def test_account_pages_show_usernames_as_codes(client, bank_admin, reviewer):
    client.force_login(bank_admin)
    pages = [
        reverse("accounts:user_list"),
        reverse("accounts:organisation_detail", args=[bank_admin.organisation_id]),
        reverse("accounts:user_edit", args=[reviewer.pk]),
        reverse("accounts:user_status", args=[reviewer.pk]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert _words(html) == [], url


def test_disabling_a_user_names_the_person(client, bank_admin, reviewer):
    client.force_login(bank_admin)
    url = reverse("accounts:user_status", args=[reviewer.pk])
    page = client.post(url, {"reason": "岗位调整"}, follow=True).content.decode()
    assert "已停用账号：审批人员" in page
    assert _words(page) == []
