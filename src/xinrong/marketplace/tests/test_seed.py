from decimal import Decimal

import pytest

from xinrong.marketplace.models import Product, ProductEvent, ProductVersion
from xinrong.web.seed import SeedReport
from xinrong.web.seed.organisations import seed_organisations
from xinrong.web.seed.products import seed_products

pytestmark = pytest.mark.django_db


def test_seeds_about_390_published_products_once():
    orgs = seed_organisations(SeedReport())
    assert seed_products(orgs, 20221) == 392
    assert seed_products(orgs, 20221) == 0
    assert Product.objects.filter(status="published", current_version__isnull=False).count() == 392
    assert ProductVersion.objects.filter(status="published").count() == 392
    assert ProductEvent.objects.count() == 392 * 3
    assert not Product.objects.exclude(
        institution__kind__in=["bank", "microloan", "guarantor", "insurer"]
    ).exists()


def test_seeded_terms_are_realistic_and_local_specials_exist():
    orgs = seed_organisations(SeedReport())
    seed_products(orgs, 20221)
    versions = ProductVersion.objects.select_related("product__institution")
    for v in versions:
        assert 0 < v.amount_min <= v.amount_max
        assert 1 <= v.term_min_months <= v.term_max_months <= 360
        assert 0 <= v.rate_min <= v.rate_max <= 36
        if v.product.institution.kind in ("guarantor", "insurer"):
            assert v.product_type == "guarantee"
    tags = {t for v in versions for t in v.tags}
    assert {"拉面贷", "虫草贷", "枸杞贷", "银税贷", "首贷"} <= tags
    for v in versions:
        if "银税贷" in v.tags and v.product.institution.kind == "bank":
            assert v.tax_grades == ["A", "B"]
    credit = [
        v for v in versions if v.product_type == "credit" and v.product.institution.kind == "bank"
    ]
    assert min(v.rate_min for v in credit) >= Decimal("3.2") and max(
        v.rate_max for v in credit
    ) <= Decimal("6.5")


def test_same_seed_same_catalogue():
    orgs = seed_organisations(SeedReport())
    seed_products(orgs, 7)
    first = list(
        ProductVersion.objects.order_by("product__code").values_list(
            "product__code", "rate_min", "amount_max", "tags"
        )
    )
    Product.objects.all().delete()
    seed_products(orgs, 7)
    again = list(
        ProductVersion.objects.order_by("product__code").values_list(
            "product__code", "rate_min", "amount_max", "tags"
        )
    )
    assert first == again
