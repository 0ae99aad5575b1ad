from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_in

pytestmark = pytest.mark.django_db


def publish(user, **overrides):
    entity = common_selectors.user_entity(user=user)
    return demand_services.demand_publish(actor=user, entity=entity, data=demand_in(**overrides))


def test_enterprise_publishes_open_demand_with_its_region(enterprise_user):
    demand = publish(enterprise_user)
    assert demand.status == "open"
    assert demand.amount == Decimal("500000")
    assert demand.division_code == "630102"
    assert demand.created_by == enterprise_user


def test_other_users_cannot_publish_for_the_entity(
    enterprise_user, other_enterprise_user, bank_officer
):
    entity = common_selectors.user_entity(user=enterprise_user)
    for actor in (other_enterprise_user, bank_officer):
        with pytest.raises(PermissionDeniedError):
            demand_services.demand_publish(actor=actor, entity=entity, data=demand_in())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "0"),
        ("amount", "100000000.01"),
        ("amount", "abc"),
        ("term_months", 0),
        ("term_months", 361),
        ("max_rate", "36.5"),
        ("max_rate", "-1"),
        ("purpose_category", "gambling"),
        ("urgency", "yesterday"),
        ("collateral_modes", ["gold"]),
    ],
)
def test_publish_rejects_bad_field_naming_it(enterprise_user, field, value):
    with pytest.raises(ValidationError) as exc:
        publish(enterprise_user, **{field: value})
    assert field in exc.value.message_dict


def test_only_own_users_withdraw_and_only_once(enterprise_user, other_enterprise_user):
    demand = publish(enterprise_user)
    with pytest.raises(PermissionDeniedError):
        demand_services.demand_withdraw(demand=demand, actor=other_enterprise_user)
    demand = demand_services.demand_withdraw(demand=demand, actor=enterprise_user)
    assert demand.status == "withdrawn" and demand.closed_at is not None
    with pytest.raises(ConflictError):
        demand_services.demand_withdraw(demand=demand, actor=enterprise_user)
