"""The workflow kernel: one transition_apply that locks, checks, moves, records and notifies."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from xinrong.accounts.permissions import is_operator_admin, object_rule
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.notifications.models import Notification
from xinrong.workflows.kernel import (
    Action,
    Notice,
    TransitionRefused,
    Workflow,
    event_record,
    register,
    transition_apply,
    unregister,
)
from xinrong.workflows.tests.kernel_models import Ticket, TicketEvent
from xinrong.workflows.tests.kernel_models import TicketStatus as S


@pytest.fixture(scope="module")
def ticket_tables(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            editor.create_model(Ticket)
            editor.create_model(TicketEvent)
        yield
        with connection.schema_editor() as editor:
            editor.delete_model(TicketEvent)
            editor.delete_model(Ticket)


def _is_owner(user: Any, ticket: Ticket) -> bool:
    return bool(user.pk == ticket.owner.pk)


def _amount_positive(ticket: Ticket, ctx: Any) -> None:
    if ticket.amount <= 0:
        raise ApplicationError("amount_required", "金额须大于 0", {"field": "amount"})


@pytest.fixture
def flow(ticket_tables: None, db: Any) -> Iterator[Workflow]:
    wf = register(
        Workflow(
            name="test.ticket",
            label="工单",
            model=Ticket,
            event_model=TicketEvent,
            event_fk="ticket",
            statuses=S,
            link=lambda t: f"/tickets/{t.pk}/",
            actions=(
                Action(
                    "submit",
                    (S.DRAFT,),
                    S.OPEN,
                    object_rule(_is_owner),
                    "提交",
                    guards=(_amount_positive,),
                    who="工单的提交人",
                ),
                Action(
                    "close",
                    (S.OPEN,),
                    S.CLOSED,
                    is_operator_admin,
                    "办结",
                    needs_note=True,
                    notices=(
                        Notice(
                            lambda t: [t.owner], "{actor_org}：您的{obj}已{label}：{note}{nowhere}"
                        ),
                    ),
                ),
                Action("expire", (S.OPEN,), S.EXPIRED, is_operator_admin, "标记过期", system=True),
                Action("comment", (S.DRAFT, S.OPEN), None, object_rule(_is_owner), "留言"),
            ),
        )
    )
    yield wf
    unregister("test.ticket")


@pytest.fixture
def owner(make_user: Any) -> Any:
    return make_user("enterprise", ["enterprise_owner"])


def _ticket(owner: Any, status: str = S.DRAFT, amount: str = "10.00") -> Ticket:
    return Ticket.objects.create(owner=owner, status=status, amount=Decimal(amount))


def test_a_move_changes_the_status_and_writes_one_event(flow: Workflow, owner: Any) -> None:
    t = _ticket(owner)
    result = transition_apply(flow, t, "submit", actor=owner, data={"amount": Decimal("10.00")})
    assert t.status == S.OPEN  # the caller's instance is refreshed
    assert Ticket.objects.get(pk=t.pk).status == S.OPEN
    ev = TicketEvent.objects.get(ticket=t)
    assert ev == result.event
    assert (ev.kind, ev.from_status, ev.to_status, ev.actor) == (
        "submit",
        "draft",
        "open",
        owner,
    )
    assert ev.data == {"amount": "10.00"}  # Decimal kept exactly, as text
    # the timeline reads the workflow's labels, never the stored values
    assert (ev.from_status_label, ev.to_status_label) == (S.DRAFT.label, S.OPEN.label)


def test_the_wrong_status_is_refused_with_409_and_nothing_written(
    flow: Workflow, owner: Any, operator: Any
) -> None:
    t = _ticket(owner, S.CLOSED)
    with pytest.raises(TransitionRefused) as e:
        transition_apply(flow, t, "close", actor=operator, note="重复办结")
    assert e.value.status == 409 and e.value.code == "invalid_transition"
    assert "当前状态为「已办结」" in e.value.message and "办结" in e.value.message
    assert not TicketEvent.objects.exists()


def test_a_person_the_layer_refuses_gets_403_and_nothing_moves(
    flow: Workflow, owner: Any, make_user: Any
) -> None:
    other = make_user("enterprise", ["enterprise_owner"])
    t = _ticket(owner)
    with pytest.raises(PermissionDeniedError) as e:
        transition_apply(flow, t, "submit", actor=other)
    assert e.value.extra == {"permission": "test.ticket.submit", "action": "submit"}
    assert e.value.message == "只有工单的提交人可以提交"
    assert Ticket.objects.get(pk=t.pk).status == S.DRAFT
    assert not TicketEvent.objects.exists()


def test_only_system_actions_may_be_taken_without_a_person(flow: Workflow, owner: Any) -> None:
    t = _ticket(owner, S.OPEN)
    with pytest.raises(PermissionDeniedError):
        transition_apply(flow, t, "close", actor=None, note="x")
    transition_apply(flow, t, "expire", actor=None)
    assert t.status == S.EXPIRED
    assert TicketEvent.objects.get().actor is None


def test_a_guard_refuses_and_rolls_back_the_update(flow: Workflow, owner: Any) -> None:
    t = _ticket(owner, amount="0")
    with pytest.raises(ApplicationError) as e:
        transition_apply(flow, t, "submit", actor=owner)
    assert e.value.extra == {"field": "amount"}
    t.refresh_from_db()
    assert t.status == S.DRAFT and not TicketEvent.objects.exists()


def test_update_runs_under_the_lock_and_a_failure_after_it_keeps_nothing(
    flow: Workflow, owner: Any
) -> None:
    t = _ticket(owner)

    def update(locked: Ticket) -> None:
        locked.amount = Decimal("99.99")

    transition_apply(flow, t, "submit", actor=owner, update=update)
    assert Ticket.objects.get(pk=t.pk).amount == Decimal("99.99")

    t2 = _ticket(owner)

    def broken(locked: Ticket) -> None:
        locked.amount = Decimal("1.00")
        raise ApplicationError("bad", "坏数据")

    with pytest.raises(ApplicationError):
        transition_apply(flow, t2, "submit", actor=owner, update=broken)
    t2.refresh_from_db()
    assert (t2.status, t2.amount) == (S.DRAFT, Decimal("10.00"))


def test_a_note_is_required_where_declared(flow: Workflow, owner: Any, operator: Any) -> None:
    t = _ticket(owner, S.OPEN)
    with pytest.raises(ApplicationError) as e:
        transition_apply(flow, t, "close", actor=operator, note="   ")
    assert e.value.extra == {"field": "note"} and "理由" in e.value.message


@pytest.mark.django_db(transaction=True)
def test_notices_go_after_commit_to_others_and_not_after_a_rollback(
    ticket_tables: None, flow: Workflow, owner: Any, operator: Any
) -> None:
    t = _ticket(owner, S.OPEN)
    with pytest.raises(RuntimeError), transaction.atomic():
        transition_apply(flow, t, "close", actor=operator, note="材料齐全")
        raise RuntimeError("the caller's transaction fails later")
    assert not Notification.objects.exists()
    t.refresh_from_db()
    assert t.status == S.OPEN
    transition_apply(flow, t, "close", actor=operator, note="材料齐全")
    n = Notification.objects.get()
    assert n.recipient_id == owner.pk
    assert n.title == f"{operator.organisation.name}：您的工单{t.pk}已办结：材料齐全"
    assert (n.kind, n.link) == ("test.ticket.close", f"/tickets/{t.pk}/")
    TicketEvent.objects.all().delete()
    Ticket.objects.all().delete()


def test_the_actor_is_not_told_of_their_own_action(
    flow: Workflow, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    op = make_user("operator", ["operator_admin"])
    t = _ticket(op, S.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        transition_apply(flow, t, "close", actor=op, note="自己办结")
    assert not Notification.objects.exists()


def test_an_action_without_target_writes_an_event_and_keeps_the_status(
    flow: Workflow, owner: Any
) -> None:
    t = _ticket(owner)
    transition_apply(flow, t, "comment", actor=owner, note="补充说明")
    ev = TicketEvent.objects.get()
    assert (ev.from_status, ev.to_status, ev.note, ev.is_move) == (
        "draft",
        "draft",
        "补充说明",
        False,
    )
    created = event_record(flow, t, "created", actor=owner, created=True)
    assert (created.from_status, created.to_status) == ("", "draft")


def test_available_actions_and_has_perm_ask_the_same_rule(
    flow: Workflow, owner: Any, operator: Any
) -> None:
    t = _ticket(owner, S.OPEN)
    assert [a.name for a in flow.available(owner, t)] == ["comment"]
    assert [a.name for a in flow.available(operator, t)] == ["close", "expire"]
    assert operator.has_perm("test.ticket.close", t)
    assert not owner.has_perm("test.ticket.close", t)
    assert flow.may(None, t, "expire") and not flow.may(None, t, "close")


def test_an_unknown_action_is_a_clear_400(flow: Workflow, owner: Any) -> None:
    with pytest.raises(ApplicationError) as e:
        transition_apply(flow, _ticket(owner), "explode", actor=owner)
    assert e.value.status == 400 and e.value.extra == {"field": "action"}


def test_register_refuses_a_broken_table(ticket_tables: None) -> None:
    with pytest.raises(ImproperlyConfigured, match="unknown statuses"):
        register(
            Workflow(
                name="test.bad",
                model=Ticket,
                event_model=TicketEvent,
                event_fk="ticket",
                statuses=S,
                actions=(Action("x", ("nowhere",), S.OPEN, is_operator_admin, "x"),),
            )
        )
    with pytest.raises(ImproperlyConfigured, match="twice"):
        Workflow(
            name="test.bad",
            model=Ticket,
            event_model=TicketEvent,
            event_fk="ticket",
            statuses=S,
            actions=(
                Action("x", (S.OPEN,), S.OPEN, is_operator_admin, "x"),
                Action("x", (S.OPEN,), S.OPEN, is_operator_admin, "x"),
            ),
        )
    with pytest.raises(ImproperlyConfigured, match="does not point"):
        register(
            Workflow(
                name="test.bad",
                model=Ticket,
                event_model=TicketEvent,
                event_fk="actor",
                statuses=S,
                actions=(Action("x", (S.OPEN,), S.OPEN, is_operator_admin, "x"),),
            )
        )


@pytest.fixture
def flow_with_deadline(ticket_tables: None, db: Any) -> Iterator[Workflow]:
    from xinrong.workflows.kernel import Deadline

    wf = register(
        Workflow(
            name="test.dated",
            label="工单",
            model=Ticket,
            event_model=TicketEvent,
            event_fk="ticket",
            statuses=S,
            actions=(Action("close", (S.OPEN,), S.CLOSED, is_operator_admin, "办结"),),
            deadlines=(
                Deadline(
                    "answer",
                    "答复期限",
                    (S.OPEN,),
                    due="due_on",
                    days_before=3,
                    notice=Notice(lambda t: [t.owner], "{obj}的{label}是 {due}，还剩 {days} 天"),
                ),
            ),
        )
    )
    yield wf
    unregister("test.dated")


def test_a_nearing_deadline_is_reminded_once_and_written_to_the_timeline(
    flow_with_deadline: Workflow, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import datetime as dt

    from xinrong.workflows.kernel import deadlines_remind

    today = dt.date(2026, 12, 7)
    near = Ticket.objects.create(owner=owner, status=S.OPEN, due_on=dt.date(2026, 12, 10))
    Ticket.objects.create(owner=owner, status=S.OPEN, due_on=dt.date(2026, 12, 11))  # too early
    Ticket.objects.create(owner=owner, status=S.OPEN, due_on=dt.date(2026, 12, 6))  # past
    Ticket.objects.create(owner=owner, status=S.CLOSED, due_on=dt.date(2026, 12, 8))  # done
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_remind(today=today)["test.dated.answer"] == 1  # apps declare others
    n = Notification.objects.get()
    assert (n.recipient_id, n.title) == (
        owner.pk,
        f"工单{near.pk}的答复期限是 2026-12-10，还剩 3 天",
    )
    ev = TicketEvent.objects.get()
    assert (ev.ticket_id, ev.kind, ev.actor) == (near.pk, "remind.answer", None)  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_remind(today=today)["test.dated.answer"] == 0
    assert Notification.objects.count() == 1


def test_render_fills_data_and_leaves_unknown_placeholders_empty() -> None:
    from xinrong.workflows.kernel import render

    assert render("{obj}还款 {amount} 元{unknown}", {"obj": "SQ1", "amount": Decimal("12.30")}) == (
        "SQ1还款 12.30 元"
    )


def test_check_refuses_before_a_service_reads_its_inputs_and_changes_nothing(
    flow: Workflow, owner: Any, operator: Any
) -> None:
    t = _ticket(owner, S.CLOSED)
    with pytest.raises(PermissionDeniedError) as e:
        flow.check(operator, t, "submit")
    assert e.value.message == "只有工单的提交人可以提交"
    with pytest.raises(TransitionRefused):
        flow.check(owner, t, "submit")
    with pytest.raises(PermissionDeniedError) as e:
        flow.check(None, t, "submit")
    assert "须由人工办理" in e.value.message
    assert flow.check(operator, _ticket(owner, S.OPEN), "close").name == "close"
    assert not TicketEvent.objects.exists()
