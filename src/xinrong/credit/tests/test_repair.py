"""Credit repair: timing per severity, who decides, and what a repaired record stops doing."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit.features import exclude_repaired
from xinrong.credit.models import RepairApplication
from xinrong.credit.publication import (
    PUBLICATION_PERIODS,
    add_months,
    maximum_period_end,
    repair_earliest_on,
)
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.selectors import repair as repair_selectors
from xinrong.credit.services import repair as repair_services
from xinrong.credit.tests.conftest import pdf
from xinrong.datahub.models import Fact
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(hour=9, tzinfo=ZoneInfo("Asia/Shanghai"))


def _approve_through(application, *actors, reason: str = ""):
    """Agree at each step of the repair approval process, in turn (department, operator)."""
    for actor in actors:
        repair_services.repair_approve(application=application, actor=actor, reason=reason)
    return application


def _apply(user, fact, on: str = "2030-01-01", **kw):
    args = {
        "actor": user,
        "fact": fact,
        "statement": "罚款已缴清，已整改并建立台账制度",
        "evidence": [pdf("缴款凭证.pdf")],
        "now": _day(on),
    }
    return repair_services.repair_apply(**(args | kw))


def test_periods_are_the_published_rules():
    assert {k: (p.min_months, p.max_months) for k, p in PUBLICATION_PERIODS.items()} == {
        "minor": (0, 3),
        "general": (3, 12),
        "serious": (12, 36),
    }
    assert PUBLICATION_PERIODS["minor"].published is False


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2024-01-10", 3, "2024-04-10"),
        ("2024-11-30", 3, "2025-02-28"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2023-12-31", 2, "2024-02-29"),
        ("2024-01-31", 36, "2027-01-31"),
    ],
)
def test_months_end_on_the_same_day_or_the_last_of_a_short_month(day, months, expected):
    assert add_months(dt.date.fromisoformat(day), months) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("severity", "decided", "last_refused", "first_allowed"),
    [
        ("minor", "2024-01-10", None, "2024-01-10"),
        ("general", "2024-01-10", "2024-04-10", "2024-04-11"),
        ("general", "2024-11-30", "2025-02-28", "2025-03-01"),
        ("serious", "2024-01-10", "2025-01-10", "2025-01-11"),
        ("serious", "2024-02-29", "2025-02-28", "2025-03-01"),
    ],
)
def test_repair_opens_the_day_after_the_minimum_period(
    enterprise_user, make_penalty, severity, decided, last_refused, first_allowed
):
    fact = make_penalty(severity, decided)
    earliest = repair_earliest_on(severity=severity, decided_on=dt.date.fromisoformat(decided))
    assert earliest.isoformat() == first_allowed
    if last_refused:
        with pytest.raises(ApplicationError) as exc:
            _apply(enterprise_user, fact, on=last_refused)
        assert exc.value.code == "too_early" and exc.value.status == 422
        assert first_allowed in exc.value.message and exc.value.extra["field"] == "fact_id"
        assert not RepairApplication.objects.exists()
    application = _apply(enterprise_user, fact, on=first_allowed)
    assert (application.status, application.severity) == ("submitted", severity)
    assert application.decided_on.isoformat() == decided


def test_maximum_period_end_is_data_too():
    assert maximum_period_end(severity="serious", decided_on=dt.date(2024, 1, 10)) == dt.date(
        2027, 1, 10
    )


def test_only_penalty_records_of_the_enterprise_itself(
    enterprise_user, tax_fact, make_penalty, make_user, bank_officer
):
    with pytest.raises(ApplicationError) as exc:
        _apply(enterprise_user, tax_fact)
    assert exc.value.code == "not_repairable"
    penalty = make_penalty("minor", "2024-01-10")
    for actor in (make_user("enterprise", ["enterprise_owner"]), bank_officer):
        with pytest.raises(PermissionDeniedError):
            _apply(actor, penalty)


def test_statement_and_evidence_are_required(enterprise_user, make_penalty):
    fact = make_penalty("general", "2024-01-10")
    with pytest.raises(ApplicationError) as exc:
        _apply(enterprise_user, fact, statement="")
    assert exc.value.extra["field"] == "statement"
    with pytest.raises(ApplicationError) as exc:
        _apply(enterprise_user, fact, evidence=[])
    assert exc.value.extra["field"] == "evidence"


def test_one_pending_application_and_no_second_repair(
    enterprise_user, make_penalty, tax_clerk, operator
):
    fact = make_penalty("general", "2024-01-10")
    first = _apply(enterprise_user, fact)
    with pytest.raises(ConflictError) as exc:
        _apply(enterprise_user, fact)
    assert "待审核" in exc.value.message
    repair_services.repair_reject(application=first, actor=tax_clerk, reason="罚款尚未缴清")
    second = _apply(enterprise_user, fact)  # rejected: the enterprise may try again
    _approve_through(second, tax_clerk, operator)
    with pytest.raises(ConflictError) as exc:
        _apply(enterprise_user, fact)
    assert "已经修复" in exc.value.message


def test_the_department_or_the_operator_decides(
    enterprise_user, make_penalty, tax_clerk, make_user, operator
):
    application = _apply(enterprise_user, make_penalty("general", "2024-01-10"))
    for actor in (make_user("government", ["data_provider"]), enterprise_user):
        with pytest.raises(PermissionDeniedError):
            repair_services.repair_approve(application=application, actor=actor)
    with pytest.raises(ApplicationError) as exc:
        repair_services.repair_reject(application=application, actor=operator, reason="")
    assert exc.value.extra["field"] == "reason"
    # the operator may stand in for the department, then confirms as the operator
    _approve_through(application, operator, operator, reason="整改到位")
    application.refresh_from_db()
    assert (application.status, application.decided_by, application.reason) == (
        "approved",
        operator,
        "整改到位",
    )
    with pytest.raises(ConflictError):
        repair_services.repair_reject(application=application, actor=tax_clerk, reason="迟到的意见")
    kinds = [(e.kind, e.from_status, e.to_status) for e in application.events.all()]
    assert kinds == [
        ("filed", "", "submitted"),
        ("reviewed", "submitted", "submitted"),
        ("approved", "submitted", "approved"),
    ]


def test_a_repaired_record_is_hidden_from_institutions_but_marked_for_the_owner(
    entity,
    enterprise_user,
    make_penalty,
    tax_clerk,
    bank_officer,
    operator,
    django_capture_on_commit_callbacks,
):
    repaired = make_penalty("general", "2024-01-10")
    kept = make_penalty("serious", "2024-02-01")
    with django_capture_on_commit_callbacks(execute=True):
        application = _apply(enterprise_user, repaired)
        _approve_through(application, tax_clerk, operator)
    bank_view = archive_selectors.archive_read(user=bank_officer, entity=entity, channel="page")
    assert [f.pk for f in bank_view.facts["penalty"]] == [kept.pk]
    own_view = archive_selectors.archive_read(user=enterprise_user, entity=entity, channel="page")
    assert {f.pk for f in own_view.facts["penalty"]} == {repaired.pk, kept.pk}
    assert own_view.repaired == {repaired.pk}
    # the department is told of the filing and of the final outcome
    assert [n.kind for n in Notification.objects.filter(recipient=tax_clerk)] == [
        "repair.approved",
        "repair.filed",
    ]
    assert sorted(n.kind for n in Notification.objects.filter(recipient=enterprise_user)) == [
        "repair.approved",
        "repair.reviewed",
    ]
    assert [n.kind for n in Notification.objects.filter(recipient=operator)] == ["repair.awaiting"]


def test_scoring_can_leave_repaired_records_out(
    entity, enterprise_user, make_penalty, tax_clerk, operator
):
    repaired = make_penalty("general", "2024-01-10")
    kept = make_penalty("general", "2024-01-11")
    pending = make_penalty("general", "2024-01-12")
    _approve_through(_apply(enterprise_user, repaired), tax_clerk, operator)
    _apply(enterprise_user, pending)
    assert repair_selectors.repaired_fact_ids() == {repaired.pk}
    assert repair_selectors.repaired_fact_ids(entity_ids=[entity.pk]) == {repaired.pk}
    assert repair_selectors.repaired_fact_ids(entity_ids=[entity.pk + 1]) == set()
    remaining = exclude_repaired(Fact.objects.filter(category="penalty"))
    assert set(remaining.values_list("pk", flat=True)) == {kept.pk, pending.pk}
