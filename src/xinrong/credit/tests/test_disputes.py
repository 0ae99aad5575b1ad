"""Disputes: filing, each transition and who may make it, deadlines, escalation, notices."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit.choices import DISPUTE_ANSWER_DAYS
from xinrong.credit.models import Dispute, DisputeEvent
from xinrong.credit.selectors import disputes as disputes_selectors
from xinrong.credit.services import dispute_deadlines as dispute_deadlines_services
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.services import repair as repair_services
from xinrong.credit.tests.conftest import pdf
from xinrong.datahub.models import Fact
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def _file(user, fact, **kw):
    args = {
        "actor": user,
        "fact": fact,
        "kind": "correction",
        "claim": "实缴税额应为800元，见完税证明",
        "proposed_values": {"tax_paid": "800"},
    }
    return disputes_services.dispute_file(**(args | kw))


def _kinds(user):
    return [n.kind for n in Notification.objects.filter(recipient=user).order_by("id")]


def test_filing_sets_the_deadline_20_days_later_and_tells_the_department(
    enterprise_user, tax_fact, tax_clerk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = _file(enterprise_user, tax_fact, now=_at("2025-03-03"), evidence=[pdf()])
    assert DISPUTE_ANSWER_DAYS == 20
    assert dispute.due_on == dt.date(2025, 3, 23)
    assert dispute.status == "submitted" and dispute.source == tax_clerk.source
    assert dispute.original_values["tax_paid"] == "1000.00"
    assert dispute.proposed_values == {"tax_paid": "800.00"}
    event = DisputeEvent.objects.get(dispute=dispute)
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        "filed",
        "",
        "submitted",
        enterprise_user,
    )
    assert _kinds(tax_clerk) == ["dispute.filed"]
    note = Notification.objects.get(recipient=tax_clerk)
    assert "2025-03-23" in note.body and note.link == f"/credit/disputes/{dispute.pk}/"
    assert dispute.evidence.get().original_name == "证明.pdf"


def test_the_deadline_counts_from_the_local_day_of_filing(enterprise_user, tax_fact):
    late_evening_utc = dt.datetime(2025, 3, 1, 17, 0, tzinfo=dt.UTC)  # 3月2日 01:00 北京时间
    dispute = _file(enterprise_user, tax_fact, now=late_evening_utc)
    assert dispute.due_on == dt.date(2025, 3, 22)


def test_only_the_enterprise_itself_files_about_its_own_facts(
    tax_fact, tax_clerk, bank_officer, operator, make_user
):
    other_enterprise = make_user("enterprise", ["enterprise_owner"])
    for actor in (other_enterprise, bank_officer, tax_clerk, operator):
        with pytest.raises(PermissionDeniedError):
            _file(actor, tax_fact)
    assert not Dispute.objects.exists()


def test_one_open_dispute_per_fact_until_it_is_closed(enterprise_user, tax_fact):
    first = _file(enterprise_user, tax_fact)
    with pytest.raises(ConflictError) as exc:
        _file(enterprise_user, tax_fact, kind="objection", proposed_values={})
    assert exc.value.status == 409 and str(first.pk) in exc.value.message
    disputes_services.dispute_withdraw(dispute=first, actor=enterprise_user, note="已与税务局核对")
    second = _file(enterprise_user, tax_fact, kind="objection", proposed_values={})
    assert second.status == "submitted"


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"proposed_values": {}}, "proposed_values", "至少一个字段"),
        ({"proposed_values": {"tax_paid": "1000"}}, "proposed_values.tax_paid", "相同"),
        ({"proposed_values": {"tax_paid": "八百"}}, "proposed_values.tax_paid", "应为数字"),
        ({"proposed_values": {"credit_grade": "E"}}, "proposed_values.credit_grade", "只能是"),
        ({"proposed_values": {"secret": "1"}}, "proposed_values.secret", "不属于"),
        ({"claim": "   "}, "claim", "异议说明"),
        ({"claim": "x" * 2001}, "claim", "2000"),
        ({"claim": "坏\x00字符"}, "claim", "控制字符"),
        ({"kind": "complaint"}, "kind", "objection"),
        (
            {"kind": "addition", "proposed_values": {"credit_grade": "A"}},
            "proposed_values.credit_grade",
            "已有记录值",
        ),
    ],
)
def test_bad_filings_name_the_field(enterprise_user, tax_fact, kw, field, words):
    with pytest.raises(ApplicationError) as exc:
        _file(enterprise_user, tax_fact, **kw)
    assert exc.value.status == 422
    assert exc.value.extra["field"] == field and words in exc.value.message
    assert not Dispute.objects.exists()


def test_an_addition_fills_an_empty_field(enterprise_user, tax_fact):
    dispute = _file(enterprise_user, tax_fact, kind="addition", proposed_values={"employees": "12"})
    assert dispute.proposed_values == {"employees": "12"}


def test_an_objection_needs_no_values(enterprise_user, tax_fact):
    dispute = _file(enterprise_user, tax_fact, kind="objection", proposed_values={})
    assert dispute.kind == "objection" and dispute.proposed_values == {}


def test_department_corrects_the_fact_and_the_enterprise_is_told(
    enterprise_user, tax_fact, tax_clerk, django_capture_on_commit_callbacks
):
    dispute = _file(enterprise_user, tax_fact)
    with django_capture_on_commit_callbacks(execute=True):
        disputes_services.dispute_resolve_correct(
            dispute=dispute, actor=tax_clerk, note="经核实予以更正"
        )
    dispute.refresh_from_db()
    assert dispute.status == "corrected" and dispute.handled_by == tax_clerk
    assert dispute.resolution == "经核实予以更正" and dispute.resolved_at is not None
    assert Fact.objects.get(pk=tax_fact.pk).amount == Decimal("800.00")
    event = dispute.events.get(kind="corrected")
    assert event.data["changes"] == {"tax_paid": {"before": "1000.00", "after": "800.00"}}
    assert event.data["original_values"]["tax_paid"] == "1000.00"
    (note,) = Notification.objects.filter(recipient=enterprise_user)
    assert note.kind == "dispute.corrected" and "1000.00 → 800.00" in note.body
    assert note.organisation_id == enterprise_user.organisation_id


def test_department_may_correct_with_its_own_values(enterprise_user, tax_fact, tax_clerk):
    dispute = _file(enterprise_user, tax_fact, kind="objection", proposed_values={})
    with pytest.raises(ApplicationError) as exc:
        disputes_services.dispute_resolve_correct(dispute=dispute, actor=tax_clerk)
    assert exc.value.extra["field"] == "values"
    with pytest.raises(ApplicationError) as exc:
        disputes_services.dispute_resolve_correct(
            dispute=dispute, actor=tax_clerk, values={"tax_paid": "x"}
        )
    assert exc.value.extra["field"] == "values.tax_paid"
    disputes_services.dispute_resolve_correct(
        dispute=dispute, actor=tax_clerk, values={"tax_paid": "950"}
    )
    assert Fact.objects.get(pk=tax_fact.pk).amount == Decimal("950.00")


def test_upholding_keeps_the_fact_and_needs_a_reason(
    enterprise_user, tax_fact, tax_clerk, django_capture_on_commit_callbacks
):
    dispute = _file(enterprise_user, tax_fact)
    with pytest.raises(ApplicationError) as exc:
        disputes_services.dispute_resolve_uphold(dispute=dispute, actor=tax_clerk, reason=" ")
    assert exc.value.extra["field"] == "reason"
    with django_capture_on_commit_callbacks(execute=True):
        disputes_services.dispute_resolve_uphold(
            dispute=dispute, actor=tax_clerk, reason="申报记录显示实缴1000元"
        )
    dispute.refresh_from_db()
    assert dispute.status == "upheld" and dispute.resolution == "申报记录显示实缴1000元"
    assert Fact.objects.get(pk=tax_fact.pk).amount == Decimal("1000.00")
    assert _kinds(enterprise_user) == ["dispute.upheld"]


def test_only_the_source_department_or_an_operator_in_region_answers(
    enterprise_user, tax_fact, tax_clerk, make_user, operator, substation_operator
):
    dispute = _file(enterprise_user, tax_fact)
    other_dept = make_user("government", ["data_provider"])
    same_org_publisher = make_user("government", ["policy_publisher"], org=tax_clerk.organisation)
    for actor in (other_dept, same_org_publisher, enterprise_user, substation_operator):
        with pytest.raises(PermissionDeniedError):
            disputes_services.dispute_resolve_uphold(
                dispute=dispute, actor=actor, reason="不予更正"
            )
        with pytest.raises(PermissionDeniedError):
            disputes_services.dispute_review_start(dispute=dispute, actor=actor)
    disputes_services.dispute_resolve_uphold(dispute=dispute, actor=operator, reason="运营方核实")
    assert Dispute.objects.get().status == "upheld"


def test_only_the_enterprise_withdraws(enterprise_user, tax_fact, tax_clerk):
    dispute = _file(enterprise_user, tax_fact)
    with pytest.raises(PermissionDeniedError):
        disputes_services.dispute_withdraw(dispute=dispute, actor=tax_clerk)
    disputes_services.dispute_withdraw(dispute=dispute, actor=enterprise_user)
    assert Dispute.objects.get().status == "withdrawn"


def test_closed_disputes_do_not_move(enterprise_user, tax_fact, tax_clerk):
    dispute = _file(enterprise_user, tax_fact)
    disputes_services.dispute_resolve_correct(dispute=dispute, actor=tax_clerk)
    for call in (
        lambda: disputes_services.dispute_withdraw(dispute=dispute, actor=enterprise_user),
        lambda: disputes_services.dispute_resolve_uphold(
            dispute=dispute, actor=tax_clerk, reason="x"
        ),
        lambda: disputes_services.dispute_review_start(dispute=dispute, actor=tax_clerk),
        lambda: disputes_services.dispute_evidence_add(
            dispute=dispute, actor=enterprise_user, evidence=[pdf()]
        ),
    ):
        with pytest.raises(ConflictError):
            call()
    assert Dispute.objects.get().status == "corrected"


def test_the_timeline_records_every_step(
    enterprise_user, tax_fact, tax_clerk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = _file(enterprise_user, tax_fact)
        disputes_services.dispute_evidence_add(
            dispute=dispute, actor=enterprise_user, evidence=[pdf("补充.pdf")]
        )
        disputes_services.dispute_review_start(
            dispute=dispute, actor=tax_clerk, note="已调取申报表"
        )
        disputes_services.dispute_resolve_uphold(
            dispute=dispute, actor=tax_clerk, reason="核对无误"
        )
    steps = [
        (e.kind, e.from_status, e.to_status, e.actor)
        for e in disputes_selectors.dispute_events(dispute=dispute)
    ]
    assert steps == [
        ("filed", "", "submitted", enterprise_user),
        ("evidence_added", "submitted", "submitted", enterprise_user),
        ("review_started", "submitted", "in_review", tax_clerk),
        ("upheld", "in_review", "upheld", tax_clerk),
    ]
    assert _kinds(enterprise_user) == ["dispute.in_review", "dispute.upheld"]


def test_overdue_disputes_are_escalated_once_to_the_operators(
    enterprise_user,
    tax_fact,
    tax_clerk,
    operator,
    substation_operator,
    make_user,
    django_capture_on_commit_callbacks,
):
    xining_station = make_user("substation", ["operator_admin"], region_code="6301")
    dispute = _file(enterprise_user, tax_fact, now=_at("2025-01-01"))
    assert dispute.due_on == dt.date(2025, 1, 21)
    assert (
        dispute_deadlines_services.dispute_escalate_overdue(today=dt.date(2025, 1, 21)) == []
    )  # last day
    assert not disputes_selectors.dispute_list(
        user=operator, overdue=True, today=dt.date(2025, 1, 21)
    )
    now = _at("2025-01-22", 8)
    with django_capture_on_commit_callbacks(execute=True):
        escalated = dispute_deadlines_services.dispute_escalate_overdue(
            today=dt.date(2025, 1, 22), now=now
        )
    assert [d.pk for d in escalated] == [dispute.pk]
    dispute.refresh_from_db()
    assert dispute.escalated_at == now and dispute.status == "submitted"
    event = dispute.events.get(kind="escalated")
    assert event.actor is None and "逾期 1 天" in event.note
    assert _kinds(operator) == ["dispute.overdue"]
    assert _kinds(xining_station) == ["dispute.overdue"]
    assert _kinds(substation_operator) == []  # Golmud does not cover Xining
    assert "dispute.overdue" in _kinds(tax_clerk)
    assert [
        d.pk for d in disputes_selectors.dispute_list(user=operator, overdue=True, today=now.date())
    ] == [dispute.pk]
    assert (
        dispute_deadlines_services.dispute_escalate_overdue(today=dt.date(2025, 2, 1)) == []
    )  # once only


def test_answered_disputes_are_never_escalated(enterprise_user, tax_fact, tax_clerk):
    dispute = _file(enterprise_user, tax_fact, now=_at("2025-01-01"))
    disputes_services.dispute_resolve_uphold(dispute=dispute, actor=tax_clerk, reason="核对无误")
    assert dispute_deadlines_services.dispute_escalate_overdue(today=dt.date(2025, 6, 1)) == []


def test_escalation_command_and_task(enterprise_user, tax_fact):
    _file(enterprise_user, tax_fact, now=_at("2025-01-01"))
    out = StringIO()
    call_command("disputes", "escalate", "--today", "2025-01-10", stdout=out)
    assert "escalated: 0" in out.getvalue()
    call_command("disputes", "escalate", "--today", "2025-02-01", stdout=out)
    assert "escalated: 1" in out.getvalue()
    from xinrong.credit.tasks import disputes_escalate_overdue

    assert disputes_escalate_overdue.enqueue().return_value == 0  # already escalated


def test_open_disputes_flag_their_facts(enterprise_user, tax_fact, make_penalty, tax_clerk):
    penalty = make_penalty("general", "2024-01-10")
    dispute = _file(enterprise_user, penalty, kind="objection", proposed_values={})
    assert disputes_selectors.disputed_fact_ids(fact_ids=[tax_fact.pk, penalty.pk]) == {penalty.pk}
    disputes_services.dispute_resolve_uphold(dispute=dispute, actor=tax_clerk, reason="核对无误")
    assert disputes_selectors.disputed_fact_ids(fact_ids=[tax_fact.pk, penalty.pk]) == set()


def test_lists_follow_role_and_object(enterprise_user, tax_fact, tax_clerk, make_user, operator):
    dispute = _file(enterprise_user, tax_fact)
    other_dept = make_user("government", ["data_provider"])
    other_enterprise = make_user("enterprise", ["enterprise_owner"])
    auditor = make_user("operator", ["auditor"])
    for user in (enterprise_user, tax_clerk, operator, auditor):
        assert list(disputes_selectors.dispute_list(user=user)) == [dispute]
    for user in (other_dept, other_enterprise):
        assert list(disputes_selectors.dispute_list(user=user)) == []
    with pytest.raises(PermissionDeniedError):
        disputes_selectors.dispute_list(user=make_user("bank", ["loan_officer"]))
    with pytest.raises(ApplicationError):
        disputes_selectors.dispute_list(user=operator, status="lost")


def test_the_list_reads_in_a_fixed_number_of_queries(
    enterprise_user, tax_clerk, make_penalty, django_assert_num_queries
):
    for i in range(4):
        _file(
            enterprise_user,
            make_penalty("minor", f"2024-01-0{i + 1}"),
            kind="objection",
            proposed_values={},
        )
    with django_assert_num_queries(2):  # roles of the user, then the list with its joins
        rows = list(disputes_selectors.dispute_list(user=tax_clerk))
        assert [r.source.organisation.name for r in rows] and [r.entity.name for r in rows]


def test_today_defaults_to_the_local_date(enterprise_user, tax_fact):
    dispute = _file(enterprise_user, tax_fact)
    assert dispute.due_on == timezone.localdate() + dt.timedelta(days=20)
    assert not dispute.is_overdue()


def test_a_disputed_fact_cannot_be_deleted_but_its_entity_can(
    entity, enterprise_user, tax_fact, make_penalty
):
    from django.db import IntegrityError, connection, transaction

    from xinrong.credit.models import RepairApplication

    dispute = _file(enterprise_user, tax_fact, evidence=[pdf()])
    penalty = make_penalty("minor", "2024-01-10")
    repair_services.repair_apply(
        actor=enterprise_user, fact=penalty, statement="已整改", evidence=[pdf()]
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Fact.objects.filter(pk=tax_fact.pk).delete()  # one statement: no per-row collection
        connection.check_constraints()
    assert Fact.objects.filter(pk=tax_fact.pk).exists()
    with transaction.atomic():
        entity.delete()
        connection.check_constraints()
    assert not Dispute.objects.filter(pk=dispute.pk).exists()
    assert not RepairApplication.objects.exists() and not Fact.objects.exists()
