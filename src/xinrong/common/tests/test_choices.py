"""Badge colours declared beside the choices, drawn by {% status_badge %}."""

from __future__ import annotations

import pytest
from django.db import models
from django.template import Context, Template

from xinrong.accounts.models import SecurityAction, SecurityEvent
from xinrong.common.choices import colour_of, register_colours


class Stage(models.TextChoices):
    DRAFT = "draft", "草稿"
    OPEN = "open", "处理中"
    DONE = "done", "已办结<b>"


register_colours(Stage, {Stage.OPEN: "primary", "done": "success"})


def _render(source: str, **context) -> str:
    return Template("{% load xinrong %}" + source).render(Context(context))


def test_colours_come_from_the_declaration_with_a_default():
    assert colour_of(Stage, Stage.OPEN) == "primary"
    assert colour_of(Stage, "done") == "success"
    assert colour_of(Stage, "draft") == "secondary"
    assert colour_of(None, "draft") == "secondary"


@pytest.mark.parametrize(
    ("colours", "default", "message"),
    [
        ({"nope": "primary"}, "secondary", "has no value 'nope'"),
        ({Stage.OPEN: "red"}, "secondary", "unknown badge colour 'red'"),
        ({}, "pink", "unknown badge colour 'pink'"),
    ],
)
def test_a_wrong_declaration_is_refused_at_import(colours, default, message):
    class Other(models.TextChoices):
        OPEN = "open", "处理中"

    with pytest.raises(ValueError, match=message):
        register_colours(Other, colours, default=default)


def test_badge_from_a_value_and_its_choices_shows_the_label_escaped():
    html = _render("{% status_badge value choices %}", value="done", choices=Stage)
    assert html == '<span class="badge text-bg-success" data-status="done">已办结&lt;b&gt;</span>'


def test_badge_from_a_model_field_finds_the_choices_of_the_field():
    event = SecurityEvent(action=SecurityAction.LOGIN_FAILURE)
    html = _render('{% status_badge e "action" id="act" css="fs-6" %}', e=event)
    assert html == (
        '<span class="badge text-bg-danger fs-6" id="act" data-status="login_failure">'
        "登录失败</span>"
    )
    ok = _render('{% status_badge e "action" %}', e=SecurityEvent(action="login_success"))
    assert 'class="badge text-bg-secondary"' in ok and "登录成功" in ok


def test_an_empty_status_is_a_dash_and_an_unknown_value_is_shown_as_is():
    assert "—" in _render("{% status_badge value choices %}", value="", choices=Stage)
    unknown = _render("{% status_badge value choices %}", value="archived", choices=Stage)
    assert ">archived<" in unknown


@pytest.mark.django_db
def test_the_security_log_colours_a_failed_login_red(client, make_user):
    auditor = make_user("operator", ["operator_admin"])
    client.post("/accounts/login/", {"username": auditor.username, "password": "wrong-password-1"})
    client.force_login(auditor)
    body = client.get("/accounts/security-log/").content.decode()
    assert '<span class="badge text-bg-danger" data-status="login_failure">登录失败</span>' in body
