from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.marketplace.models import Product, ProductEvent, ProductVersion
from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.tests.factories import product_terms, published_product

pytestmark = pytest.mark.django_db


def test_institution_creates_submits_and_operator_publishes(bank_officer, operator):
    product = product_services.product_create(
        actor=bank_officer, code="qh-001", name="青银首贷", terms=product_terms()
    )
    assert product.code == "QH-001" and product.status == "draft"
    product_services.product_submit(product=product, actor=bank_officer)
    product.refresh_from_db()
    assert product.status == "in_review"
    product_services.product_approve(product=product, actor=operator, note="条款合规")
    product.refresh_from_db()
    assert product.status == "published"
    assert product.current_version.number == 1 and product.current_version.status == "published"
    kinds = list(product.events.values_list("kind", "from_status", "to_status"))
    assert kinds == [
        ("created", "", "draft"),
        ("submitted", "draft", "in_review"),
        ("approved", "in_review", "published"),
    ]
    assert product.events.get(kind="approved").actor == operator


def test_enterprise_user_cannot_create_or_approve(enterprise_user, bank_officer):
    with pytest.raises(PermissionDeniedError):
        product_services.product_create(
            actor=enterprise_user, code="X-1", name="企业产品", terms=product_terms()
        )
    product = product_services.product_create(
        actor=bank_officer, code="X-2", name="银行产品", terms=product_terms()
    )
    product_services.product_submit(product=product, actor=bank_officer)
    with pytest.raises(PermissionDeniedError):
        product_services.product_approve(product=product, actor=enterprise_user)


def test_institution_cannot_approve_its_own_product(bank_officer, bank_admin):
    product = product_services.product_create(
        actor=bank_officer, code="X-3", name="银行产品", terms=product_terms()
    )
    product_services.product_submit(product=product, actor=bank_officer)
    with pytest.raises(PermissionDeniedError):
        product_services.product_approve(product=product, actor=bank_admin)


def test_other_institution_cannot_edit_submit_or_withdraw(bank_officer, make_user, operator):
    other = make_user("bank", ["institution_admin"])
    product = published_product(bank_officer, operator, code="X-4")
    for call in (
        lambda: product_services.product_update(
            product=product, actor=other, terms=product_terms()
        ),
        lambda: product_services.product_submit(product=product, actor=other),
        lambda: product_services.product_withdraw(product=product, actor=other),
    ):
        with pytest.raises(PermissionDeniedError):
            call()


def test_operator_cannot_create_or_withdraw(operator, bank_officer):
    with pytest.raises(PermissionDeniedError):
        product_services.product_create(
            actor=operator, code="X-5", name="运营产品", terms=product_terms()
        )
    product = published_product(bank_officer, operator, code="X-6")
    with pytest.raises(PermissionDeniedError):
        product_services.product_withdraw(product=product, actor=operator)


def test_operator_returns_with_reason_then_institution_fixes(bank_officer, operator):
    product = product_services.product_create(
        actor=bank_officer, code="X-7", name="退回测试", terms=product_terms()
    )
    product_services.product_submit(product=product, actor=bank_officer)
    with pytest.raises(ValidationError) as err:
        product_services.product_return(product=product, actor=operator, reason=" ")
    assert "reason" in err.value.error_dict
    product_services.product_return(product=product, actor=operator, reason="利率区间过宽")
    product.refresh_from_db()
    assert product.status == "draft"
    assert product.events.get(kind="returned").note == "利率区间过宽"
    product_services.product_update(
        product=product, actor=bank_officer, terms=product_terms(rate_max="4.5")
    )
    product.refresh_from_db()
    assert product.versions.count() == 1  # a draft is edited in place
    assert product.draft_version.rate_max == Decimal("4.50")


def test_editing_a_published_product_creates_a_new_version_and_keeps_the_old(
    bank_officer, operator
):
    product = published_product(bank_officer, operator, code="X-8", rate_min="3.45")
    v1 = product.current_version
    v2 = product_services.product_update(
        product=product, actor=bank_officer, terms=product_terms(rate_min="3.20")
    )
    assert v2.number == 2 and v2.pk != v1.pk
    product.refresh_from_db()
    assert product.current_version_id == v1.pk and product.status == "published"
    v1.refresh_from_db()
    assert v1.rate_min == Decimal("3.45") and v1.status == "published"
    product_services.product_submit(product=product, actor=bank_officer)
    with pytest.raises(ConflictError):
        product_services.product_update(
            product=product, actor=bank_officer, terms=product_terms(rate_min="3.1")
        )
    product_services.product_approve(product=product, actor=operator)
    product.refresh_from_db()
    v1.refresh_from_db()
    assert product.current_version_id == v2.pk
    assert v1.status == "superseded" and v1.rate_min == Decimal("3.45")
    assert ProductVersion.objects.filter(product=product).count() == 2


def test_withdraw_only_when_published(bank_officer, operator):
    product = product_services.product_create(
        actor=bank_officer, code="X-9", name="下架测试", terms=product_terms()
    )
    with pytest.raises(ConflictError):
        product_services.product_withdraw(product=product, actor=bank_officer)
    product = published_product(bank_officer, operator, code="X-10")
    product_services.product_withdraw(product=product, actor=bank_officer, note="额度用完")
    product.refresh_from_db()
    assert product.status == "withdrawn"
    assert ProductEvent.objects.filter(product=product, kind="withdrawn").exists()


@pytest.mark.parametrize(
    ("override", "field", "fragment"),
    [
        ({"amount_min": "500000", "amount_max": "100000"}, "amount_max", "不能小于最低额度"),
        ({"amount_min": "0"}, "amount_min", "大于 0"),
        ({"rate_max": "40"}, "rate_max", "0%–36%"),
        ({"rate_min": "6", "rate_max": "5"}, "rate_max", "不能小于最低年利率"),
        ({"term_max_months": 400}, "term_max_months", "1–360"),
        ({"term_min_months": 0}, "term_min_months", "1–360"),
        ({"term_min_months": 24, "term_max_months": 12}, "term_max_months", "不能小于最短期限"),
        ({"industries": ["Z9"]}, "industries", "GB/T 4754"),
        ({"regions": ["639999"]}, "regions", "不存在"),
        ({"min_credit_grade": "XX"}, "min_credit_grade", "AAA"),
        ({"tax_grades": ["E"]}, "tax_grades", "纳税信用等级"),
        ({"product_type": "lease"}, "product_type", "产品类型"),
        ({"repayment_methods": []}, "repayment_methods", "还款方式"),
    ],
)
def test_invalid_terms_name_the_field(bank_officer, override, field, fragment):
    with pytest.raises(ValidationError) as err:
        product_services.product_create(
            actor=bank_officer, code="BAD-1", name="错误产品", terms=product_terms(**override)
        )
    assert field in err.value.error_dict
    assert fragment in " ".join(err.value.messages)
    assert not Product.objects.exists()


def test_codes_are_normalised(bank_officer):
    product = product_services.product_create(
        actor=bank_officer,
        code="ok-1",
        name="代码规范化",
        terms=product_terms(industries=["c", "51"], regions=["6301"], tags=["银税贷"]),
    )
    v = product.draft_version
    assert v.industries == ["C", "F51"]
    assert v.regions == ["630100"]
    assert v.region_index == "|6301|"
    assert v.tag_index == "|银税贷|"


def test_guarantor_may_only_offer_guarantee_products(make_user):
    guarantor = make_user("guarantor", ["institution_admin"])
    with pytest.raises(ValidationError):
        product_services.product_create(
            actor=guarantor, code="G-1", name="担保贷", terms=product_terms()
        )
    product = product_services.product_create(
        actor=guarantor, code="G-2", name="担保产品", terms=product_terms(product_type="guarantee")
    )
    assert product.draft_version.product_type == "guarantee"


def test_duplicate_code_is_a_conflict(bank_officer):
    product_services.product_create(
        actor=bank_officer, code="DUP-1", name="产品一", terms=product_terms()
    )
    with pytest.raises(ConflictError):
        product_services.product_create(
            actor=bank_officer, code="dup-1", name="产品二", terms=product_terms()
        )
