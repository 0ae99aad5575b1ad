"""One ID number is one person: a second name with the same number is refused, not linked."""

import pytest

from xinrong.common.errors import ApplicationError
from xinrong.enterprises import services
from xinrong.enterprises.models import MarketEntity, Person
from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

pytestmark = pytest.mark.django_db

SHARED = valid_id_number(seed=4242)


def _entity(seed: int, rep: str, id_number: str = SHARED) -> MarketEntity:
    return services.market_entity_create(
        uscc=valid_uscc(seed=seed),
        name=f"冲突测试{seed}有限公司",
        industry_code="5212",
        division_code="630102",
        legal_rep_name=rep,
        legal_rep_id_number=id_number,
    )


def test_same_number_and_name_is_the_same_person():
    a = _entity(1, "张三丰")
    b = _entity(2, "张三丰")
    assert a.legal_representative_id == b.legal_representative_id
    assert Person.objects.count() == 1


def test_second_entity_with_the_number_under_another_name_is_refused_naming_both_masked():
    first = _entity(1, "张三丰")
    with pytest.raises(ApplicationError) as exc:
        _entity(2, "李四光")
    assert exc.value.code == "id_number_name_conflict"
    assert exc.value.extra == {"field": "legal_rep_id_number"}
    message = str(exc.value.message)
    assert "张**" in message and "李**" in message
    assert "张三丰" not in message and "李四光" not in message and SHARED not in message
    # nothing was linked or half-written
    assert not MarketEntity.objects.filter(uscc=valid_uscc(seed=2)).exists()
    assert list(Person.objects.values_list("pk", flat=True)) == [first.legal_representative_id]


def test_person_get_or_create_refuses_another_name_for_a_held_number():
    services.person_get_or_create(name="王五", id_number=SHARED)
    with pytest.raises(ApplicationError) as exc:
        services.person_get_or_create(name="赵六", id_number=SHARED)
    assert exc.value.code == "id_number_name_conflict"
    assert exc.value.extra == {"field": "id_number"}


def test_self_registration_of_the_real_representative_says_the_conflict():
    _entity(1, "张三丰")
    with pytest.raises(ApplicationError) as exc:
        services.enterprise_register(
            uscc=valid_uscc(seed=2),
            name="冲突测试2有限公司",
            legal_rep_name="李四光",
            legal_rep_id_number=SHARED,
            username="real_rep",
            password="Owner-pass-2026",
            industry_code="5212",
            division_code="630102",
        )
    assert exc.value.code == "id_number_name_conflict"
    assert "张**" in str(exc.value.message) and "李**" in str(exc.value.message)
    assert not MarketEntity.objects.filter(uscc=valid_uscc(seed=2)).exists()


def test_entity_linked_to_the_wrong_person_earlier_gives_the_conflict_not_a_mismatch():
    """Data linked silently before the fix: the real representative is told why."""
    first = _entity(1, "张三丰")
    linked = MarketEntity.objects.create(
        uscc=valid_uscc(seed=3),
        name="旧数据有限公司",
        entity_type="enterprise",
        industry_code="5212",
        division_code="630102",
        legal_representative_id=first.legal_representative_id,
    )
    with pytest.raises(ApplicationError) as exc:
        services.enterprise_register(
            uscc=linked.uscc,
            name=linked.name,
            legal_rep_name="李四光",
            legal_rep_id_number=SHARED,
            username="real_rep",
            password="Owner-pass-2026",
        )
    assert exc.value.code == "id_number_name_conflict"
    # the recorded representative still registers as before
    user = services.enterprise_register(
        uscc=linked.uscc,
        name=linked.name,
        legal_rep_name="张三丰",
        legal_rep_id_number=SHARED,
        username="recorded_rep",
        password="Owner-pass-2026",
    )
    assert user.organisation.market_entity == linked
