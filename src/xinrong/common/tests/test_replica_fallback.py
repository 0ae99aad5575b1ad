"""A view marked for the replica runs again on the primary when the replica cannot be reached,
but never after it wrote (the write happened on the primary and must not happen twice)."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from xinrong.common import replica


@pytest.fixture(autouse=True)
def _configured(monkeypatch):
    monkeypatch.setattr(replica, "replica_configured", lambda: True)


def test_an_unreachable_replica_falls_back_to_the_primary():
    calls = []

    @replica.reads_from_replica
    def view():
        state = replica.marked.get()
        calls.append(state is not None)
        if state is not None:
            raise OperationalError("could not connect to the replica")
        return "page"

    assert view() == "page"
    assert calls == [True, False]  # marked for the replica, then again unmarked


def test_a_failure_after_a_write_is_not_retried():
    calls = []

    @replica.reads_from_replica
    def view():
        calls.append(1)
        replica.marked.get().wrote = True  # as the router marks the first write
        raise OperationalError("the primary went away")

    with pytest.raises(OperationalError):
        view()
    assert calls == [1]
