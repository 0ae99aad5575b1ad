"""Guarantees in the registry, and the keys that find shared addresses and phones."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from xinrong.common.errors import SERVICE_ERRORS, ApplicationError
from xinrong.enterprises import services
from xinrong.enterprises.models import Person, Relationship
from xinrong.enterprises.names import address_key
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_id_number, valid_uscc

pytestmark = pytest.mark.django_db


def test_an_entity_may_guarantee_another_with_an_amount_in_yuan():
    debtor, guarantor = MarketEntityFactory(), MarketEntityFactory()
    rel = services.relationship_add(
        entity=debtor,
        kind="guarantor",
        holder_entity=guarantor,
        guaranteed_amount=Decimal("5000000.00"),
    )
    assert (rel.holder_entity, rel.entity, rel.guaranteed_amount) == (
        guarantor,
        debtor,
        Decimal("5000000.00"),
    )
    assert rel.get_kind_display() == "担保人"


def test_a_person_may_guarantee_without_an_amount():
    debtor = MarketEntityFactory()
    person = services.person_get_or_create(name="马明", id_number=valid_id_number(seed=31))
    rel = services.relationship_add(entity=debtor, kind="guarantor", person=person)
    assert rel.guaranteed_amount is None


def test_an_entity_cannot_guarantee_itself():
    entity = MarketEntityFactory()
    with pytest.raises(ApplicationError) as exc:
        services.relationship_add(entity=entity, kind="guarantor", holder_entity=entity)
    assert exc.value.code == "guarantee_self"
    assert exc.value.extra["field"] == "holder_entity"
    assert "担保" in exc.value.message
    assert not Relationship.objects.filter(kind="guarantor").exists()


@pytest.mark.parametrize(
    ("kind", "amount", "code"),
    [
        ("guarantor", Decimal("-0.01"), "guaranteed_amount_range"),
        ("guarantor", Decimal("NaN"), "guaranteed_amount_range"),
        ("shareholder", Decimal("100"), "guaranteed_amount_kind"),
    ],
)
def test_bad_guaranteed_amounts_are_refused_naming_the_field(kind, amount, code):
    debtor, guarantor = MarketEntityFactory(), MarketEntityFactory()
    with pytest.raises(ApplicationError) as exc:
        services.relationship_add(
            entity=debtor,
            kind=kind,
            holder_entity=guarantor,
            share_ratio=Decimal("10") if kind == "shareholder" else None,
            guaranteed_amount=amount,
        )
    assert (exc.value.code, exc.value.extra["field"], exc.value.status) == (
        code,
        "guaranteed_amount",
        422,
    )


def test_amount_beyond_sixteen_digits_is_a_field_error():
    debtor, guarantor = MarketEntityFactory(), MarketEntityFactory()
    with pytest.raises(SERVICE_ERRORS) as exc:
        services.relationship_add(
            entity=debtor,
            kind="guarantor",
            holder_entity=guarantor,
            guaranteed_amount=Decimal("1" * 17),
        )
    assert "guaranteed_amount" in str(exc.value)


def test_unknown_kind_is_refused_with_the_allowed_kinds():
    debtor, guarantor = MarketEntityFactory(), MarketEntityFactory()
    with pytest.raises(ApplicationError) as exc:
        services.relationship_add(entity=debtor, kind="friend", holder_entity=guarantor)
    assert exc.value.extra["field"] == "kind" and "担保人" in exc.value.message


def test_database_refuses_negative_or_misplaced_amounts():
    debtor, guarantor = MarketEntityFactory(), MarketEntityFactory()
    for kind, amount in (("guarantor", Decimal("-1")), ("executive", Decimal("1"))):
        with pytest.raises(IntegrityError), transaction.atomic():
            Relationship.objects.create(
                entity=debtor, kind=kind, holder_entity=guarantor, guaranteed_amount=amount
            )


def test_address_key_ignores_whitespace_and_full_width_forms():
    assert address_key(" 西宁市城东区\u3000八一路１号 ") == address_key("西宁市城东区八一路1号")
    assert address_key("西宁市（城东区）") == address_key("西宁市(城东区)")
    assert address_key("") == ""


def test_created_entity_stores_its_address_key():
    entity = services.market_entity_create(
        uscc=valid_uscc(seed=41),
        name="西宁某商贸有限公司",
        industry_code="F51",
        division_code="630102",
        address="西宁市城东区 八一路1号",
    )
    assert entity.address_key == "西宁市城东区八一路1号"


def test_people_sharing_a_phone_share_its_blind_index_and_not_the_number():
    a = services.person_get_or_create(
        name="甲", id_number=valid_id_number(seed=51), phone="+86 138-1234-5678"
    )
    b = services.person_get_or_create(name="乙", phone="13812345678")
    c = services.person_get_or_create(name="丙", phone="13912345678")
    d = services.person_get_or_create(name="丁")
    assert a.phone_index == b.phone_index != c.phone_index
    assert d.phone_index == ""
    assert "13812345678" not in a.phone_index
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM enterprises_person WHERE id = %s", [a.pk])
        (raw,) = cursor.fetchone()
    assert "1234" not in raw
    assert Person.objects.get(pk=a.pk).phone == "+86 138-1234-5678"
