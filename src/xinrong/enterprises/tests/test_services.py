from decimal import Decimal

import pytest
from django.db import connection

from xinrong.common.errors import SERVICE_ERRORS, ApplicationError
from xinrong.enterprises import services
from xinrong.enterprises.models import MarketEntity, Person, Relationship
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_id_number, valid_uscc

pytestmark = pytest.mark.django_db


def _create(**kw):
    args = dict(
        uscc=valid_uscc(seed=5),
        name="西宁某商贸有限公司",
        industry_code="F51",
        division_code="630102",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=5),
        employees=4,
        annual_revenue=Decimal("500"),
        total_assets=Decimal("100"),
    )
    args.update(kw)
    return services.market_entity_create(**args)


def test_create_computes_size_and_stores_id_number_encrypted():
    entity = _create()
    assert entity.size_class == "micro"  # wholesale: fewer than 5 employees
    person = entity.legal_representative
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM enterprises_person WHERE id = %s", [person.pk])
        (raw,) = cursor.fetchone()
    assert valid_id_number(seed=5) not in raw
    assert Person.objects.get(pk=person.pk).id_number == valid_id_number(seed=5)
    assert Relationship.objects.filter(entity=entity, kind="legal_representative").count() == 1


def test_same_person_is_found_again_by_id_number():
    a = _create()
    b = _create(uscc=valid_uscc(seed=6), name="另一家公司")
    assert a.legal_representative_id == b.legal_representative_id


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"uscc": "91630100MA7XXXXX"}, "uscc"),
        ({"industry_code": "Z99"}, "industry_code"),
        ({"division_code": "639999"}, "division_code"),
        ({"legal_rep_id_number": "630102198506011230"}, "id_number"),
        ({"annual_revenue": Decimal("-1")}, "annual_revenue"),
        ({"entity_type": "individual_business"}, "entity_type"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(kw, field):
    with pytest.raises(SERVICE_ERRORS) as exc:
        _create(**kw)
    assert exc.value.extra["field"] == field
    assert 400 <= exc.value.status < 500
    assert not MarketEntity.objects.exists()
    assert not Person.objects.exists()


def test_duplicate_uscc_is_a_conflict():
    _create()
    with pytest.raises(ApplicationError) as exc:
        _create(name="重复")
    assert exc.value.status == 409


def test_individual_business_type_follows_the_code():
    entity = _create(
        uscc=valid_uscc(seed=8, individual=True), name="城东区马记拉面馆", industry_code="H62"
    )
    assert entity.entity_type == "individual_business"


def test_finer_industry_class_is_kept_for_size_rules():
    entity = _create(industry_code="7020", employees=150, annual_revenue=Decimal("600"))
    assert entity.industry_code == "K7020"
    assert entity.size_class == "small"  # property management: Y>=100 and R>=500


def test_shareholdings_cannot_exceed_100_percent():
    entity = MarketEntityFactory()
    a = services.person_get_or_create(name="甲", id_number=valid_id_number(seed=21))
    b = services.person_get_or_create(name="乙", id_number=valid_id_number(seed=22))
    services.relationship_add(
        entity=entity, kind="shareholder", person=a, share_ratio=Decimal("60")
    )
    with pytest.raises(ApplicationError) as exc:
        services.relationship_add(
            entity=entity, kind="shareholder", person=b, share_ratio=Decimal("41")
        )
    assert exc.value.code == "share_ratio_total"
    services.relationship_add(
        entity=entity, kind="shareholder", person=b, share_ratio=Decimal("40")
    )


def test_entity_cannot_hold_itself():
    entity = MarketEntityFactory()
    with pytest.raises(ApplicationError):
        services.relationship_add(
            entity=entity, kind="shareholder", holder_entity=entity, share_ratio=Decimal("10")
        )


def test_register_new_enterprise_creates_org_owner_and_entity():
    user = services.enterprise_register(
        uscc=valid_uscc(seed=9),
        name="海东测试有限公司",
        legal_rep_name="韩梅",
        legal_rep_id_number=valid_id_number(seed=9),
        username="hd_owner",
        password="Owner-pass-2026",
        industry_code="C13",
        division_code="630202",
    )
    assert user.has_role("enterprise_owner")
    assert user.organisation.market_entity.uscc == valid_uscc(seed=9)


def test_existing_entity_can_be_claimed_only_by_its_legal_representative():
    entity = _create()
    with pytest.raises(ApplicationError) as exc:
        services.enterprise_register(
            uscc=entity.uscc,
            name="x",
            legal_rep_name="马明",
            legal_rep_id_number=valid_id_number(seed=77),
            username="impostor",
            password="Owner-pass-2026",
        )
    assert exc.value.code == "legal_rep_mismatch"
    user = services.enterprise_register(
        uscc=entity.uscc,
        name="x",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=5),
        username="real_owner",
        password="Owner-pass-2026",
    )
    assert user.organisation.market_entity == entity
    with pytest.raises(ApplicationError) as exc:
        services.enterprise_register(
            uscc=entity.uscc,
            name="x",
            legal_rep_name="马明",
            legal_rep_id_number=valid_id_number(seed=5),
            username="second",
            password="Owner-pass-2026",
        )
    assert exc.value.code == "already_registered"


def test_failed_registration_leaves_nothing_behind():
    from xinrong.accounts.models import Organisation, User

    with pytest.raises(SERVICE_ERRORS):
        services.enterprise_register(
            uscc=valid_uscc(seed=10),
            name="弱密码公司",
            legal_rep_name="祁红",
            legal_rep_id_number=valid_id_number(seed=10),
            username="weak",
            password="123",
            industry_code="F52",
            division_code="630102",
        )
    assert not MarketEntity.objects.exists()
    assert not Organisation.objects.exists()
    assert not User.objects.exists()
