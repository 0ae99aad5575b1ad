"""Financial products (issue 5): about 390 published products over the seeded institutions.

Each institution publishes some of its kind's templates (``data/products.toml``), with amounts,
rates and service days jittered deterministically within the template's ranges.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation
from xinrong.marketplace.choices import EventKind, ProductStatus, VersionStatus
from xinrong.marketplace.inputs import ProductTermsIn
from xinrong.marketplace.models import Product, ProductEvent, ProductVersion
from xinrong.marketplace.services.products import region_index, tag_index
from xinrong.web.seed.base import load_data
from xinrong.web.seed.organisations import INSTITUTIONS

# (name, type, tags, amount yuan (min, max), term months (min, max), rate % (min, max), extra terms)
_ProductTemplate = tuple[
    str, str, tuple[str, ...], tuple[int, int], tuple[int, int], tuple[float, float], dict[str, Any]
]

_DATA = load_data("products")


def _template(t: dict[str, Any]) -> _ProductTemplate:
    return (
        t["name"],
        t["type"],
        tuple(t["tags"]),
        (t["amount"][0], t["amount"][1]),
        (t["term_months"][0], t["term_months"][1]),
        (t["rate"][0], t["rate"][1]),
        dict(t["extra"]),
    )


# Products per institution kind: 22×14 + 3×8 + 6×6 + 8×3 = 392 (the article: "390+ products")
PRODUCTS_PER_KIND: dict[str, tuple[int, list[_ProductTemplate]]] = {
    OrgKind(kind): (_DATA[kind]["count"], [_template(t) for t in _DATA[kind]["templates"]])
    for kind in (OrgKind.BANK, OrgKind.MICROLOAN, OrgKind.GUARANTOR, OrgKind.INSURER)
}
_KIND_LETTER: dict[str, str] = {kind: _DATA[kind]["letter"] for kind in PRODUCTS_PER_KIND}
_REPAYMENTS: list[str] = list(_DATA["repayment_methods"])
_SHORT_NAME_SUFFIXES: tuple[str, ...] = tuple(_DATA["short_name_suffixes"])


def _short_institution(name: str) -> str:
    for suffix in _SHORT_NAME_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _product_terms(rng: random.Random, template: _ProductTemplate) -> dict[str, Any]:
    """Jitter a template's terms deterministically, keeping them within its ranges."""
    _name, ptype, tags, (amin, amax), (tmin, tmax), (rmin, rmax), extra = template
    step = 10_000 if amin < 1_000_000 else 100_000
    lo = amin + step * rng.randint(0, 2)
    hi = max(lo, amax - step * rng.randint(0, 4))
    r_lo = round(rmin + rng.choice([0, 0.05, 0.1, 0.15, 0.2]), 2)
    r_hi = max(r_lo, round(rmax - rng.choice([0, 0.05, 0.1, 0.2]), 2))
    return {
        "product_type": ptype,
        "amount_min": Decimal(lo),
        "amount_max": Decimal(hi),
        "term_min_months": tmin,
        "term_max_months": tmax,
        "rate_min": Decimal(str(r_lo)),
        "rate_max": Decimal(str(r_hi)),
        "repayment_methods": rng.sample(_REPAYMENTS, rng.randint(1, 3)),
        "entity_types": [],
        "industries": [],
        "regions": [],
        "min_years_in_business": 0,
        "min_credit_grade": "",
        "tax_grades": [],
        "collateral_modes": [],
        "tags": list(tags),
        "supports_relending": False,
        "supports_rediscount": False,
        "days_to_accept": rng.choice([1, 2, 3, 3, 5]),
        "days_to_decide": rng.choice([3, 5, 7, 7, 10, 15]),
        "description": "",
        **extra,
    }


def seed_products(orgs: dict[str, Organisation], seed_value: int) -> int:
    """Publish about 390 products over the seeded institutions; existing codes are skipped."""
    rng = random.Random(f"products:{seed_value}")
    now = timezone.now()
    planned: list[tuple[Organisation, str, str, dict[str, Any], dt.datetime]] = []
    counters: dict[str, int] = {}
    for kind, name in INSTITUTIONS:
        if kind not in PRODUCTS_PER_KIND or name not in orgs:
            continue
        count, templates = PRODUCTS_PER_KIND[kind]
        letter = _KIND_LETTER[kind]
        counters[letter] = counters.get(letter, 0) + 1
        org = orgs[name]
        short = _short_institution(name)
        for j, template in enumerate(rng.sample(templates, min(count, len(templates)))):
            code = f"QH-{letter}{counters[letter]:02d}-{j + 1:02d}"
            terms = ProductTermsIn.parse(_product_terms(rng, template)).as_terms()
            terms["description"] = f"{short}面向青海小微企业和个体工商户推出的{template[0]}产品。"
            published = now - dt.timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
            planned.append((org, code, f"{short}·{template[0]}", terms, published))
    existing = set(
        Product.objects.filter(code__in=[p[1] for p in planned]).values_list("code", flat=True)
    )
    todo = [p for p in planned if p[1] not in existing]
    if not todo:
        return 0
    products = Product.objects.bulk_create(
        [
            Product(
                institution=org,
                code=code,
                name=name,
                status=ProductStatus.PUBLISHED,
                published_at=published,
            )
            for org, code, name, _t, published in todo
        ]
    )
    versions = ProductVersion.objects.bulk_create(
        [
            ProductVersion(
                product=product,
                number=1,
                status=VersionStatus.PUBLISHED,
                region_index=region_index(terms["regions"]),
                tag_index=tag_index(terms["tags"]),
                submitted_at=published - dt.timedelta(days=2),
                published_at=published,
                **terms,
            )
            for product, (_o, _c, _n, terms, published) in zip(products, todo, strict=True)
        ]
    )
    for product, version in zip(products, versions, strict=True):
        product.current_version = version
    Product.objects.bulk_update(products, ["current_version"])
    steps = (
        (EventKind.CREATED, "", ProductStatus.DRAFT, 3),
        (EventKind.SUBMITTED, ProductStatus.DRAFT, ProductStatus.IN_REVIEW, 2),
        (EventKind.APPROVED, ProductStatus.IN_REVIEW, ProductStatus.PUBLISHED, 0),
    )
    ProductEvent.objects.bulk_create(
        [
            ProductEvent(
                product=product,
                version=version,
                kind=kind,
                from_status=before,
                to_status=after,
                note="演示数据" if kind == EventKind.CREATED else "",
                created_at=(product.published_at or now) - dt.timedelta(days=days_before),
            )
            for product, version in zip(products, versions, strict=True)
            for kind, before, after, days_before in steps
        ]
    )
    return len(products)


# New products the demo institutions have submitted and the operator has yet to review, so the
# operator's 产品审核 queue holds work on first login: (demo login, code, name, product type, tags).
IN_REVIEW = (
    ("loan_officer", "QH-N01-01", "青海银行·牧区惠农贷", "credit", ["首贷", "惠农"]),
    ("microloan", "QH-N02-01", "西宁城投小贷·个体周转贷", "credit", ["个体工商户"]),
)


def seed_products_in_review() -> int:
    """Create and submit the ``IN_REVIEW`` products (those whose login exists); return how many
    were added (none on a second run)."""
    from xinrong.accounts.models import User
    from xinrong.marketplace.services.products import product_create, product_submit

    added = 0
    for username, code, name, product_type, tags in IN_REVIEW:
        actor = User.objects.filter(username=username).first()
        if actor is None or Product.objects.filter(code=code).exists():
            continue
        terms = ProductTermsIn.parse(
            {
                "product_type": product_type,
                "amount_min": "50000",
                "amount_max": "1000000",
                "term_min_months": 6,
                "term_max_months": 36,
                "rate_min": "3.85",
                "rate_max": "5.60",
                "repayment_methods": ["equal_instalment", "interest_first"],
                "entity_types": [],
                "industries": [],
                "regions": [],
                "min_years_in_business": "1",
                "min_credit_grade": "",
                "tax_grades": [],
                "collateral_modes": ["none"],
                "tags": tags,
                "supports_relending": False,
                "supports_rediscount": False,
                "days_to_accept": 2,
                "days_to_decide": 5,
                "description": "面向省内小微企业和个体工商户的信用贷款，随借随还。",
            }
        )
        product = product_create(actor=actor, code=code, name=name, terms=terms)
        product_submit(product=product, actor=actor, note="新产品，请审核上架")
        added += 1
    return added
