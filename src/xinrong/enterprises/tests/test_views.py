import pytest
from django.urls import reverse

from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_id_number, valid_uscc

pytestmark = pytest.mark.django_db


def test_list_filters_and_masks(client, operator):
    entity = MarketEntityFactory(name="西宁拉面有限公司")
    MarketEntityFactory(name="别的公司")
    client.force_login(operator)
    body = client.get(reverse("enterprises:list"), {"q": "拉面"}).content.decode()
    assert "西宁拉面有限公司" in body
    assert "别的公司" not in body
    assert entity.legal_representative.name not in body  # masked


def test_list_reports_unknown_region(client, operator):
    client.force_login(operator)
    response = client.get(reverse("enterprises:list"), {"region": "999999"})
    assert response.status_code == 200
    assert "999999" in response.content.decode()


def test_detail_masks_id_number(client, operator):
    entity = MarketEntityFactory()
    client.force_login(operator)
    body = client.get(reverse("enterprises:detail", args=[entity.uscc])).content.decode()
    assert entity.name in body
    assert entity.legal_representative.id_number not in body


def test_detail_outside_substation_region_is_404(client, substation_operator):
    entity = MarketEntityFactory(division_code="630102")
    client.force_login(substation_operator)
    assert client.get(reverse("enterprises:detail", args=[entity.uscc])).status_code == 404


def test_self_registration_logs_in_and_shows_enterprise_home(client):
    response = client.post(
        reverse("enterprises:register"),
        {
            "uscc": valid_uscc(seed=31),
            "name": "西宁注册测试有限公司",
            "industry_code": "F52",
            "division_code": "630102",
            "legal_rep_name": "李华",
            "legal_rep_id_number": valid_id_number(seed=31),
            "phone": "13800001111",
            "username": "reg_owner",
            "password": "Owner-pass-2026",
            "password_again": "Owner-pass-2026",
            "agree": "on",
        },
    )
    assert response.status_code == 302
    home = client.get(reverse("web:home")).content.decode()
    assert "企业中心" in home
    assert "西宁注册测试有限公司" in home


def test_self_registration_with_bad_check_digit_explains(client):
    code = valid_uscc(seed=32)
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = client.post(
        reverse("enterprises:register"),
        {
            "uscc": bad,
            "name": "X",
            "industry_code": "F52",
            "division_code": "630102",
            "legal_rep_name": "李华",
            "legal_rep_id_number": valid_id_number(seed=32),
            "phone": "13800001111",
            "username": "bad_owner",
            "password": "Owner-pass-2026",
            "password_again": "Owner-pass-2026",
            "agree": "on",
        },
    )
    assert response.status_code == 200
    assert "校验" in response.content.decode()


def test_detail_with_malformed_code_explains_instead_of_failing(client, operator):
    client.force_login(operator)
    response = client.get(reverse("enterprises:detail", args=["9163"]))
    assert response.status_code == 422
    assert "18" in response.content.decode()


def test_self_registration_refuses_a_username_with_spaces_and_symbols(client):
    response = client.post(
        reverse("enterprises:register"),
        {
            "uscc": valid_uscc(seed=33),
            "name": "西宁用户名测试有限公司",
            "industry_code": "F52",
            "division_code": "630102",
            "legal_rep_name": "李华",
            "legal_rep_id_number": valid_id_number(seed=33),
            "phone": "13800001112",
            "username": "audit gm/data*",
            "password": "Owner-pass-2026",
            "password_again": "Owner-pass-2026",
            "agree": "on",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    summary = body[
        body.index("data-form-errors") : body.index("</div>", body.index("data-form-errors"))
    ]
    (line,) = [s for s in summary.split("<div") if 'data-error-of="username"' in s]
    assert "登录用户名" in line and "字母" in line
    assert "登录用户名</a>：" not in line  # the message names its field; not prefixed twice
    from xinrong.accounts.models import User

    assert not User.objects.filter(username="audit gm/data*").exists()
