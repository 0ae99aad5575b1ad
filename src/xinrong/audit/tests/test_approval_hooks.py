"""Approvals are audited: every kernel transition and every BPMN user task completed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xinrong.audit.models import AuditEntry
from xinrong.workflows import engine, services
from xinrong.workflows.kernel import transition_apply
from xinrong.workflows.tests import test_kernel as kernel_tests

# The kernel tests' toy workflow (a ticket table made for the module) and its owner.
ticket_tables = kernel_tests.ticket_tables
flow = kernel_tests.flow
owner = kernel_tests.owner
_ticket = kernel_tests._ticket

pytestmark = pytest.mark.django_db


def test_a_kernel_transition_is_an_approval_entry(flow, owner):
    ticket = _ticket(owner)
    transition_apply(flow, ticket, "submit", actor=owner, data={"amount": Decimal("10.00")})
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.category == "approval" and entry.action == "test.ticket.submit"
    assert entry.actor_user_id == owner.pk and entry.target_id == str(ticket.pk)
    assert entry.details == {"from": "draft", "to": "open", "label": "提交（工单）"}


def test_a_refused_transition_leaves_no_entry(flow, owner, make_user):
    other = make_user("enterprise", ["enterprise_owner"])
    before = AuditEntry.objects.count()
    with pytest.raises(Exception):  # noqa: B017  (the kernel's 403)
        transition_apply(flow, _ticket(owner), "submit", actor=other)
    assert AuditEntry.objects.count() == before


def test_a_bpmn_task_completed_is_an_approval_entry(make_user):
    services.ensure_default_processes()
    dept = make_user("government", ["data_provider"])
    instance = engine.process_start(
        "credit.repair_approval", subject=("credit.repairapplication", 1), data={"records": 2}
    )
    (task,) = engine.open_tasks(instance)
    engine.task_complete(instance, task.id, user=dept, data={"approved": True})
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "bpmn.task_complete" and entry.category == "approval"
    assert entry.actor_username == dept.username
    assert entry.details["task"] == "department_review"
