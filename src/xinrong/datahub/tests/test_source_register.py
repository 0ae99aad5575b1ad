"""A department registers the data sources it delivers from a page (issue 12)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinrong.accounts.models import SecurityAction, SecurityEvent
from xinrong.accounts.permissions import can
from xinrong.datahub.models import Source

pytestmark = pytest.mark.django_db


def test_a_new_departments_clerk_registers_its_source_and_can_upload(client, make_user):
    clerk = make_user("government", ["data_provider"])
    client.force_login(clerk)
    home = client.get(reverse("datahub:home")).content.decode()
    assert 'id="register-source"' in home and "联系平台运营方" not in home
    url = reverse("datahub:source_new")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "organisation": clerk.organisation_id,
            "name": "海东市市场监督管理局",
            "code": "haidong-amr",
            "categories": ["penalty", "tax"],
            "cadence": "monthly",
        },
    )
    assert response.status_code == 302
    source = Source.objects.get(code="haidong-amr")
    assert source.organisation == clerk.organisation
    assert source.categories == ["tax", "penalty"]
    event = SecurityEvent.objects.get(action=SecurityAction.SOURCE_REGISTER)
    assert event.actor == clerk and event.details["source"] == "haidong-amr"
    home = client.get(reverse("datahub:home")).content.decode()
    assert 'id="upload-form"' in home and 'data-template="penalty"' in home


def test_every_error_at_once_in_chinese_naming_the_field(client, make_user):
    clerk = make_user("government", ["data_provider"])
    client.force_login(clerk)
    response = client.post(
        reverse("datahub:source_new"),
        {"organisation": clerk.organisation_id, "name": "", "code": "税务 局!", "cadence": "x"},
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "报送的数据类别至少选择一项" in text and "请填写来源名称" in text
    assert 'data-error-of="name"' in text and 'data-error-of="cadence"' in text
    assert "来源代码“税务 局!”不符合规则" in text  # with the others, at once
    assert not Source.objects.exists()
    again = client.post(
        reverse("datahub:source_new"),
        {
            "organisation": clerk.organisation_id,
            "name": "某局",
            "code": "税务 局!",
            "categories": ["tax"],
            "cadence": "monthly",
        },
    )
    assert "来源代码“税务 局!”不符合规则" in again.content.decode()


def test_a_clerk_registers_only_for_its_own_department(client, make_user):
    clerk = make_user("government", ["data_provider"])
    other = make_user("government", ["data_provider"])
    client.force_login(clerk)
    response = client.post(
        reverse("datahub:source_new"),
        {
            "organisation": other.organisation_id,
            "name": "别的部门",
            "code": "other-dept",
            "categories": ["tax"],
            "cadence": "monthly",
        },
    )
    assert response.status_code == 200
    assert "所属部门不在可选范围内" in response.content.decode()
    assert not Source.objects.exists()


def test_operator_registers_for_any_department_and_clerk_edits_categories(
    client, operator, make_user
):
    clerk = make_user("government", ["data_provider"])
    client.force_login(operator)
    response = client.post(
        reverse("datahub:source_new"),
        {
            "organisation": clerk.organisation_id,
            "name": "人社局",
            "code": "hrss-x",
            "categories": ["social_security"],
            "cadence": "quarterly",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    source = Source.objects.get(code="hrss-x")
    client.force_login(clerk)
    assert can(clerk, "datahub.source_manage", source)
    edit = reverse("datahub:source_edit", args=[source.pk])
    response = client.post(
        edit,
        {
            "name": "人社局（社保）",
            "code": "changed",
            "categories": ["social_security", "tax"],
            "cadence": "monthly",
        },
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.code == "hrss-x"  # the code stays
    assert source.categories == ["tax", "social_security"] and source.cadence == "monthly"
    event = SecurityEvent.objects.get(action=SecurityAction.SOURCE_UPDATE)
    assert event.details["changes"]["cadence"] == ["quarterly", "monthly"]


def test_others_may_not_register_or_edit(client, bank_admin, make_user):
    clerk = make_user("government", ["data_provider"])
    client.force_login(clerk)
    client.post(
        reverse("datahub:source_new"),
        {
            "organisation": clerk.organisation_id,
            "name": "某局",
            "code": "some-bureau",
            "categories": ["tax"],
            "cadence": "monthly",
        },
    )
    source = Source.objects.get(code="some-bureau")
    stranger = make_user("government", ["data_provider"])
    assert not can(stranger, "datahub.source_manage", source)
    client.force_login(stranger)
    assert client.get(reverse("datahub:source_edit", args=[source.pk])).status_code == 404
    client.force_login(bank_admin)
    assert client.get(reverse("datahub:source_new")).status_code == 403
