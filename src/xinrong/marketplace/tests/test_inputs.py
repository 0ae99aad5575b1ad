"""The typed inputs: one parse for the form and the services, every bad field reported at once."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from xinrong.marketplace.forms import ProductForm
from xinrong.marketplace.inputs import DemandIn, ProductTermsIn
from xinrong.marketplace.models import Demand, Product
from xinrong.marketplace.tests.factories import demand_data, terms

BAD = {
    "amount_min": "0",
    "rate_max": "40",
    "term_min_months": 24,
    "term_max_months": 12,
    "regions": ["639999"],
    "days_to_accept": 0,
    "product_type": "lease",
}
BAD_FIELDS = {
    "amount_min",
    "rate_max",
    "term_max_months",
    "regions",
    "days_to_accept",
    "product_type",
}


# What passes the form's field types but not the terms' rules (the form's choice refuses "lease").
FORM_BAD = {k: v for k, v in BAD.items() if k != "product_type"}
FORM_BAD_FIELDS = BAD_FIELDS - {"product_type"}


def _errors(data):
    with pytest.raises(ValidationError) as err:
        ProductTermsIn.parse(data)
    return err.value.message_dict


def test_parse_names_every_bad_field_at_once():
    errors = _errors(terms(**BAD))
    assert set(errors) == BAD_FIELDS
    assert "大于 0" in errors["amount_min"][0]
    assert "0%–36%" in errors["rate_max"][0]
    assert "不能小于最短期限" in errors["term_max_months"][0]
    assert "不存在" in errors["regions"][0]
    assert "1–90" in errors["days_to_accept"][0]
    assert all(len(messages) == 1 for messages in errors.values())


def test_parse_keeps_the_error_codes():
    with pytest.raises(ValidationError) as err:
        ProductTermsIn.parse(terms(amount_min="0", product_type="lease"))
    codes = {f: [e.code for e in errs] for f, errs in err.value.error_dict.items()}
    assert codes == {"amount_min": ["out_of_range"], "product_type": ["invalid_choice"]}


def test_a_range_is_compared_only_when_both_ends_are_good():
    errors = _errors(terms(rate_min="abc", rate_max="2"))
    assert set(errors) == {"rate_min"} and "应为数字" in errors["rate_min"][0]
    errors = _errors(terms(term_min_months=0, term_max_months=-5))
    assert set(errors) == {"term_min_months", "term_max_months"}
    assert all("1–360" in m[0] for m in errors.values())


def test_parse_normalises():
    parsed = ProductTermsIn.parse(
        terms(
            amount_min="100000.5",
            rate_min="3.4",
            industries="c, 51，c",
            regions=["6301", "630100"],
            tags=["首贷", "首贷", " 银税贷 "],
            repayment_methods=["interest_first", "interest_first"],
            tax_grades=["B", "A", "B"],
            min_years_in_business="2",
            description="  说明  ",
        )
    )
    assert parsed.amount_min == Decimal("100000.50") and str(parsed.amount_min) == "100000.50"
    assert str(parsed.rate_min) == "3.40" and str(parsed.min_years_in_business) == "2.0"
    assert parsed.industries == ("C", "F51")
    assert parsed.regions == ("630100",)
    assert parsed.tags == ("首贷", "银税贷")
    assert parsed.repayment_methods == ("interest_first",)
    assert parsed.tax_grades == ("A", "B")
    assert parsed.description == "说明"
    stored = parsed.as_terms()
    assert stored["industries"] == ["C", "F51"] and stored["tags"] == ["首贷", "银税贷"]
    assert set(stored) == {f for f in ProductTermsIn.__dataclass_fields__}


def test_parsed_terms_are_frozen():
    parsed = ProductTermsIn.parse(terms())
    with pytest.raises(AttributeError):
        parsed.rate_min = Decimal("1")


def _form_data(**overrides):
    data = {**terms(**overrides), "code": "FORM-1", "name": "表单产品"}
    for field in ("industries", "regions", "tags"):
        data[field] = ",".join(data[field])
    data["supports_rediscount"] = ""
    return data


def test_form_terms_give_the_same_errors_as_parse():
    form = ProductForm(_form_data(**FORM_BAD))
    assert form.is_valid(), form.errors
    with pytest.raises(ValidationError) as err:
        form.terms()
    assert err.value.message_dict == _errors(terms(**FORM_BAD))


@pytest.mark.django_db
def test_the_product_page_shows_every_bad_field_on_its_field(client, bank_officer):
    client.force_login(bank_officer)
    response = client.post("/marketplace/mine/new/", _form_data(**FORM_BAD))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == FORM_BAD_FIELDS
    expected = _errors(terms(**FORM_BAD))
    assert {f: list(form.errors[f]) for f in FORM_BAD_FIELDS} == expected
    page = response.content.decode()
    assert all(m[0] in page for m in expected.values())
    assert not Product.objects.exists()


# ---------------------------------------------------------------- financing demands

# What passes the demand form's field types but not the rules (its choice fields refuse "gold").
DEMAND_BAD = {"amount": "0", "term_months": 400, "max_rate": "40"}


def _demand_errors(data):
    with pytest.raises(ValidationError) as err:
        DemandIn.parse(data)
    return err.value.message_dict


def test_demand_parse_names_every_bad_field_at_once():
    errors = _demand_errors(
        demand_data(**DEMAND_BAD, urgency="now", purpose_category="x", collateral_modes=["gold"])
    )
    assert set(errors) == set(DEMAND_BAD) | {"urgency", "purpose_category", "collateral_modes"}
    assert "100,000,000" in errors["amount"][0] and "1–360" in errors["term_months"][0]
    assert "gold" in errors["collateral_modes"][0]


def test_demand_parse_normalises():
    parsed = DemandIn.parse(
        demand_data(purpose="  采购  ", collateral_modes="none, none", urgency="", max_rate="5.5")
    )
    assert parsed.purpose == "采购" and parsed.collateral_modes == ("none",)
    assert parsed.urgency == "normal" and parsed.max_rate == Decimal("5.5")
    assert parsed.as_fields()["collateral_modes"] == ["none"]
    assert set(_demand_errors(demand_data(amount="1.005", max_rate="5.555"))) == {
        "amount",
        "max_rate",
    }


@pytest.mark.django_db
def test_demand_form_and_api_give_the_same_errors(client, enterprise_user):
    client.force_login(enterprise_user)
    expected = _demand_errors(demand_data(**DEMAND_BAD))
    page = client.post("/marketplace/demands/new/", demand_data(**DEMAND_BAD))
    assert page.status_code == 200
    form = page.context["form"]
    assert {f: list(form.errors[f]) for f in form.errors} == expected
    api = client.post(
        "/api/v1/marketplace/demands", demand_data(**DEMAND_BAD), content_type="application/json"
    )
    assert api.status_code == 422
    named = {}
    for error in api.json()["extra"]["errors"]:
        named.setdefault(error["field"], []).append(error["message"])
    assert named == expected
    assert all(m[0] in api.json()["message"] for m in expected.values())
    assert not Demand.objects.exists()
