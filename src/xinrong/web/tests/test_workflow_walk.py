"""Walk every (status, action, person) of every registered workflow from its declared table.

Each app's ``tests/walk.py`` says, per workflow, how to make an object in any status and which
people matter (the object's own side, the other side, operators, the auditor, the platform
itself as ``None``). For every status, every action and every person the walk asks the kernel to
take the action (in a savepoint that is rolled back) and checks that it did exactly what the
table says: refused with 403 whom the permission layer refuses, refused with 409 an action that
does not leave the status, and otherwise moved the object to the declared target and wrote one
event of the declared kind (or a guard refused with its own error). It also checks that each
action can be taken by someone and is refused to someone.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

import pytest
from django.db import transaction

from xinrong.accounts.permissions import can
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.workflows.kernel import WORKFLOWS, TransitionRefused, transition_apply

WALK_MODULES = (
    "marketplace",
    "credit",
    "datahub",
    "workflows",
    "policies",
    "riskfund",
    "evaluations",
)


def _walks() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for app in WALK_MODULES:
        try:
            module = importlib.import_module(f"xinrong.{app}.tests.walk")
        except ModuleNotFoundError:
            continue
        found.update(module.WALKS)
    return found


WALKS = _walks()


def test_every_registered_workflow_has_a_walk() -> None:
    assert WORKFLOWS, "no workflow is registered"
    missing = sorted(set(WORKFLOWS) - set(WALKS))
    assert not missing, f"workflows without a walk in <app>/tests/walk.py: {missing}"


class _Rollback(Exception):
    pass


def _attempt(workflow: Any, obj: Any, action: Any, user: Any, kwargs: dict[str, Any]) -> str:
    """Take the action in a savepoint that is always rolled back; return what happened."""
    events = workflow.event_model._default_manager.filter(**{workflow.event_fk: obj.pk})
    try:
        with transaction.atomic():
            before = events.count()
            result = transition_apply(workflow, obj, action.name, actor=user, **kwargs)
            moved = workflow.status_of(result.obj)
            written = events.count() - before
            kind_ok = result.event.kind == action.event_kind
            raise _Rollback(f"moved:{moved}:{written if kind_ok else 'wrong-kind'}")
    except _Rollback as done:
        return str(done)
    except PermissionDeniedError:
        return "403"
    except TransitionRefused:
        return "409"
    except ApplicationError as e:
        return f"guard:{e.code}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(WALKS))
def test_walk(name: str) -> None:
    workflow = WORKFLOWS[name]
    walk = WALKS[name]()
    make, people = walk[0], walk[1]
    kwargs_for = walk[2] if len(walk) > 2 else (lambda action: {})
    taken: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for status in workflow.statuses.values:
        obj = make(status)
        assert workflow.status_of(obj) == status, f"{name}: walk made {obj!r} in the wrong status"
        for action in workflow.actions:
            for label, user in people.items():
                # re-read so that a rolled-back attempt leaves no trace in the instance
                obj.refresh_from_db()
                outcome = _attempt(workflow, obj, action, user, kwargs_for(action))
                where = f"{name}: {label} → {action.name} in {status}"
                permitted = (
                    action.system if user is None else can(user, workflow.permission(action), obj)
                )
                if not permitted:
                    assert outcome == "403", f"{where}: expected 403, got {outcome}"
                    refused[action.name] += 1
                    continue
                if status not in action.sources:
                    assert outcome == "409", f"{where}: expected 409, got {outcome}"
                    continue
                if outcome.startswith("guard:"):
                    continue
                _, moved, events = outcome.split(":")
                if action.target is not None and "target" not in kwargs_for(action):
                    assert moved == action.target, f"{where}: moved to {moved}"
                elif action.target is None:
                    assert moved == status, f"{where}: moved to {moved}, declared no move"
                assert events == "1", f"{where}: wrote {events} events of {action.event_kind}"
                taken[action.name] += 1
    never = [a.name for a in workflow.actions if not taken[a.name]]
    assert not never, f"{name}: no one in the walk could take {never}"
    open_to_all = [a.name for a in workflow.actions if not refused[a.name]]
    assert not open_to_all, f"{name}: no one in the walk is refused {open_to_all}"
