import pytest

from xinrong.accounts.permissions import region_prefix_for
from xinrong.accounts.selectors import organisation_list

pytestmark = pytest.mark.django_db


def test_substation_is_confined_to_its_region(substation_operator):
    assert region_prefix_for(substation_operator) == "632801"


def test_operator_sees_every_region(operator):
    assert region_prefix_for(operator) is None


def test_non_operators_see_only_their_own_organisation(bank_officer, make_user):
    make_user("bank", ["loan_officer"])
    assert list(organisation_list(user=bank_officer)) == [bank_officer.organisation]
