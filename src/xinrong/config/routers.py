"""Database routers: the read replica (``DATABASE_REPLICA_URL``) for marked reads.

Reads inside ``xinrong.common.replica.replica_reads`` (views decorated with
``reads_from_replica``: the statistics pages and the credit portrait) go to the alias
``replica``; all other reads and every write go to ``default``. Once a marked block writes, or
while a transaction is open on ``default``, its reads go to ``default`` too (read your writes).
docs/scaling.md ("Read replica") explains the choice.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from xinrong.common.replica import REPLICA, marked, replica_configured


class ReplicaRouter:
    """Django database router for the ``replica`` alias (settings ``DATABASE_ROUTERS``)."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        state = marked.get()
        if (
            state is None
            or state.wrote
            or not replica_configured()
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        state = marked.get()
        if state is not None:
            state.wrote = True  # read your writes: the rest of the block reads the primary
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # a streaming replica is read-only: never migrated
