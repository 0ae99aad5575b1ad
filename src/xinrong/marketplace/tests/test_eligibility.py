import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest

from xinrong.credit.tests.reporting import give_score
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.marketplace.eligibility import EntityFacts, entity_facts, evaluate
from xinrong.marketplace.selectors.products import eligibility_for
from xinrong.marketplace.tests.factories import published_product


def _terms(**kw):
    base = dict(
        entity_types=[],
        industries=[],
        regions=[],
        min_years_in_business=Decimal("0"),
        min_credit_grade="",
        tax_grades=[],
    )
    base.update(kw)
    return SimpleNamespace(**base)


FACTS = EntityFacts(
    entity_type="enterprise",
    industry_code="F51",
    division_code="630102",
    years_in_business=5.2,
    credit_grade="A",
    tax_grade="B",
)


def codes(terms, facts=FACTS):
    return [r.code for r in evaluate(terms, facts).reasons]


def test_all_clear_when_every_condition_is_met():
    terms = _terms(
        entity_types=["enterprise"],
        industries=["F"],
        regions=["630100"],
        min_years_in_business=Decimal("3"),
        min_credit_grade="BBB",
        tax_grades=["A", "B"],
    )
    verdict = evaluate(terms, FACTS)
    assert verdict.eligible and verdict.reasons == []


def test_entity_type_mismatch_is_explained():
    verdict = evaluate(_terms(entity_types=["individual_business"]), FACTS)
    assert [r.code for r in verdict.reasons] == ["entity_type"]
    assert "个体工商户" in verdict.reasons[0].message


def test_industry_by_section_and_division():
    assert codes(_terms(industries=["C"])) == ["industry"]
    assert codes(_terms(industries=["F51"])) == []
    assert codes(_terms(industries=["F52"])) == ["industry"]


def test_region_outside_the_products_divisions():
    assert codes(_terms(regions=["632800"])) == ["region"]
    assert codes(_terms(regions=["630000"])) == []
    assert "海西" in evaluate(_terms(regions=["632800"]), FACTS).reasons[0].message


def test_years_in_business_too_short_or_unknown():
    assert codes(_terms(min_years_in_business=Decimal("8"))) == ["years_in_business"]
    unknown = EntityFacts(**{**FACTS.__dict__, "years_in_business": None})
    assert codes(_terms(min_years_in_business=Decimal("1")), unknown) == ["years_in_business"]


def test_credit_grade_below_minimum_or_missing():
    assert codes(_terms(min_credit_grade="AA")) == ["credit_grade"]
    assert codes(_terms(min_credit_grade="A")) == []
    missing = EntityFacts(**{**FACTS.__dict__, "credit_grade": None})
    assert codes(_terms(min_credit_grade="C"), missing) == ["credit_grade_missing"]


def test_tax_grade_not_in_set_or_unknown():
    assert codes(_terms(tax_grades=["A"])) == ["tax_grade"]
    unknown = EntityFacts(**{**FACTS.__dict__, "tax_grade": None})
    assert codes(_terms(tax_grades=["A", "B"]), unknown) == ["tax_grade_missing"]


def test_every_failing_condition_is_reported_at_once():
    terms = _terms(
        entity_types=["individual_business"],
        industries=["A"],
        regions=["632800"],
        min_years_in_business=Decimal("10"),
        min_credit_grade="AAA",
        tax_grades=["A"],
    )
    assert codes(terms) == [
        "entity_type",
        "industry",
        "region",
        "years_in_business",
        "credit_grade",
        "tax_grade",
    ]


@pytest.mark.django_db
def test_entity_facts_load_grade_and_latest_tax_grade(enterprise_user, make_user):
    entity = enterprise_user.organisation.market_entity
    entity.established_on = dt.date.today() - dt.timedelta(days=365 * 4)
    entity.save()
    give_score(entity, grade="BBB")
    dept = make_user("government", ["data_provider"])
    src = source_create(code="tax", name="税务", organisation=dept.organisation, categories=["tax"])
    csv = (
        "统一社会信用代码,主体名称,所属期,实缴税额（元）,纳税信用等级,欠税金额（元）\n"
        f"{entity.uscc},{entity.name},2024-06,1000,B,0\n"
        f"{entity.uscc},{entity.name},2025-06,1000,A,0\n"
    )
    batch_ingest(
        source=src,
        category="tax",
        fileobj=io.BytesIO(csv.encode()),
        filename="t.csv",
        channel="cli",
    )
    facts = entity_facts(entity_ids=[entity.pk])[entity.pk]
    assert facts.credit_grade == "BBB"
    assert facts.tax_grade == "A"
    assert 3.9 < (facts.years_in_business or 0) < 4.1
    assert facts.industry_code == "F51"


@pytest.mark.django_db
def test_eligibility_for_many_versions_uses_few_queries(
    enterprise_user, bank_officer, operator, django_assert_max_num_queries
):
    entity = enterprise_user.organisation.market_entity
    versions = [
        published_product(
            bank_officer, operator, code=f"P-{i}", min_credit_grade="A"
        ).current_version
        for i in range(6)
    ]
    with django_assert_max_num_queries(30):
        verdicts = eligibility_for(entity=entity, versions=versions)
    assert len(verdicts) == 6
    assert all(v.reasons[0].code == "credit_grade_missing" for v in verdicts.values())
