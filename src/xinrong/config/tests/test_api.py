"""The API's error contract: pydantic's errors and unparsable bodies answer in Chinese."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, Field, ValidationError

from xinrong.config.api import _RULES, _rule_message
from xinrong.marketplace.tests.factories import published_product
from xinrong.marketplace.tests.test_applications import _apply, _to
from xinrong.marketplace.tests.test_bank_api import _system

pytestmark = pytest.mark.django_db


class _Money(BaseModel):
    amount: Decimal = Field(max_digits=16, decimal_places=2)


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        ("1.234", "decimal_max_places", "小数位数不能超过 2 位"),
        ("12345678901234567", "decimal_max_digits", "数字总位数不能超过 16 位"),
        ("123456789012345.1", "decimal_whole_digits", "整数部分不能超过 14 位"),
    ],
)
def test_decimal_limits_are_explained_in_chinese(value, kind, text):
    with pytest.raises(ValidationError) as caught:
        _Money(amount=value)
    error = caught.value.errors()[0]
    assert error["type"] == kind
    assert _rule_message(dict(error)) == text


def test_common_pydantic_errors_have_chinese_rules_formatted_with_their_context():
    for kind in ("string_too_long", "less_than_equal", "too_long", "string_pattern_mismatch"):
        assert kind in _RULES
    assert _rule_message({"type": "too_long", "ctx": {"max_length": 10}}) == "最多 10 项"


@pytest.fixture
def approvable(client, enterprise_user, bank_officer, operator, make_user):
    org = bank_officer.organisation
    bank = {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "institution_admin": make_user("bank", ["institution_admin"], org=org),
    }
    product = published_product(bank_officer, operator, code="API-ERR")
    app = _apply(enterprise_user, enterprise_user.organisation.market_entity, product)
    app = _to(app, "under_review", bank)
    return _system(client, bank["institution_admin"]), app


def test_an_amount_with_three_decimals_is_422_in_chinese_naming_the_field(approvable):
    system, app = approvable
    payload = {"amount": "1.234", "rate": "4.35", "term_months": 12}
    response = system.post(f"/applications/{app.number}/approve", payload)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input" and body["extra"]["field"] == "amount"
    assert body["message"] == "字段“amount”小数位数不能超过 2 位"


def test_a_body_that_is_not_json_is_400_in_chinese_naming_the_body(client, enterprise_user):
    client.force_login(enterprise_user)
    response = client.post(
        "/api/v1/marketplace/demands", data=b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_json" and body["extra"] == {"field": "body"}
    assert "请求体" in body["message"] and "JSON" in body["message"]
