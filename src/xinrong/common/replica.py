"""Marking reads for the read replica (the router is ``xinrong.config.routers``).

Only code run inside :func:`replica_reads` (or a view decorated with :func:`reads_from_replica`:
the statistics pages and the credit portrait) reads from the replica, and only when
``DATABASE_REPLICA_URL`` configured one. Everything else, and every write, uses ``default``.
Read-your-writes: once the marked block writes (a query-log row, an audit entry), or while a
transaction is open on ``default``, its later reads go to ``default`` too, so a request never
misses what it wrote itself. Rows written by *other* requests may show on the replica a moment
later (the streaming lag, normally well under a second): acceptable for dashboards and
portraits, which is why nothing else is marked. See docs/scaling.md ("Read replica").
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Marked:
    wrote: bool = False


marked: ContextVar[Marked | None] = ContextVar("xinrong_replica_reads", default=None)


def replica_configured() -> bool:
    """Return True if a replica alias exists (``DATABASE_REPLICA_URL`` was set)."""
    return REPLICA in connections.settings


@contextmanager
def replica_reads() -> Iterator[Marked]:
    """Send the reads of the block to the replica (until the block writes)."""
    state = Marked()
    token = marked.set(state)
    try:
        yield state
    finally:
        marked.reset(token)


def reads_from_replica(view: Callable[P, R]) -> Callable[P, R]:
    """Decorate a read-only view so its queries read from the replica.

    A replica that cannot be reached does not fail the page: the view runs again on the primary.
    That is safe because only reads before the view's first write go to the replica, so nothing
    was written when the replica failed.
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with replica_reads() as state:
                return view(*args, **kwargs)
        except OperationalError:
            if state.wrote or not replica_configured():
                raise  # the primary failed, or after a write: not ours to retry
            logger.warning("read replica unreachable; reading from the primary", exc_info=True)
            return view(*args, **kwargs)

    return wrapper
