"""Two transactions appending at once on PostgreSQL take turns on the head row: no gap, no fork."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from xinrong.audit.models import AuditEntry
from xinrong.audit.services import audit_chain_verify, audit_record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_two_concurrent_transactions_append_one_after_the_other():
    audit_record(category="security", action="login_success")  # the head row exists
    first_locked = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            with transaction.atomic():
                audit_record(category="security", action="slow")
                first_locked.set()
                release.wait(10)  # hold the head lock while the other one tries
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def fast() -> None:
        try:
            first_locked.wait(10)
            audit_record(category="security", action="fast")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=slow)
    b = threading.Thread(target=fast)
    a.start()
    b.start()
    first_locked.wait(10)
    b.join(0.5)
    assert b.is_alive(), "the second append must wait for the first transaction's head lock"
    release.set()
    a.join(10)
    b.join(10)
    assert not errors
    actions = list(AuditEntry.objects.order_by("seq").values_list("seq", "action"))
    assert actions == [(1, "login_success"), (2, "slow"), (3, "fast")]
    assert audit_chain_verify().ok
