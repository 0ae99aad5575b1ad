"""Whatever an enterprise sends, filing a dispute stores it or refuses it with a 4xx error."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinrong.common.errors import ApplicationError
from xinrong.credit.services import disputes as disputes_services

pytestmark = pytest.mark.django_db

NASTY = st.sampled_from(["\x00", "\ud800", "\u202e", "'; --", "１２３", "1e400", "NaN", " "])
TEXT = st.lists(st.one_of(st.text(max_size=8), NASTY), max_size=4).map("".join)
KEYS = st.one_of(
    st.sampled_from(["tax_paid", "period", "credit_grade", "arrears", "employees"]), TEXT
)
VALUES = st.one_of(
    TEXT, st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none()
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["objection", "correction", "addition", "other"]),
    claim=TEXT,
    values=st.dictionaries(KEYS, VALUES, max_size=4),
)
def test_filing_never_fails_with_an_unexpected_error(
    enterprise_user, tax_fact, kind, claim, values
):
    with transaction.atomic():
        try:
            dispute = disputes_services.dispute_file(
                actor=enterprise_user,
                fact=tax_fact,
                kind=kind,
                claim=claim,
                proposed_values=values,
            )
            dispute.refresh_from_db()  # stored and readable back
        except ApplicationError as exc:
            assert 400 <= exc.status < 500 and exc.message
        except ValidationError as exc:  # every field's error at once (a 422 in the API)
            assert exc.message_dict and all(exc.message_dict.values())
        finally:
            transaction.set_rollback(True)
