"""The database side of append-only: triggers refusing UPDATE and DELETE on the audit entries.

SQLite's DELETE trigger asks ``xinrong_audit_purge_allowed()``, a function this app registers on
Django's own connections: it answers 1 only when ``XINRONG_AUDIT_PURGE_ALLOWED`` is set (the test
settings, so that test databases can be flushed). Any other connection (the ``sqlite3`` shell)
has no such function and its DELETE fails too. PostgreSQL's test flush uses TRUNCATE, which a
row trigger does not see; production revokes TRUNCATE from the application's role (docs/audit.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

TABLE = "audit_auditentry"
MESSAGE = "audit log is append-only"

SQLITE_CREATE = [
    f"CREATE TRIGGER audit_auditentry_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER audit_auditentry_no_delete BEFORE DELETE ON {TABLE} "
    f"WHEN NOT xinrong_audit_purge_allowed() "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_auditentry_no_update;",
    "DROP TRIGGER IF EXISTS audit_auditentry_no_delete;",
]
POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION audit_auditentry_refuse() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$;",
    f"CREATE TRIGGER audit_auditentry_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_auditentry_refuse();",
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_auditentry_no_change ON {TABLE};",
    "DROP FUNCTION IF EXISTS audit_auditentry_refuse();",
]


def purge_allowed() -> int:
    """Answer SQLite's trigger: 1 when the settings allow emptying the table (tests only)."""
    return 1 if getattr(settings, "XINRONG_AUDIT_PURGE_ALLOWED", False) else 0


def connection_prepare(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Register the trigger's function on each new SQLite connection of Django's."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "xinrong_audit_purge_allowed", 0, purge_allowed, deterministic=False
        )


def triggers_sql(vendor: str, *, drop: bool = False) -> list[str]:
    """Return the statements creating (or dropping) the triggers for a database vendor."""
    if vendor == "sqlite":
        return SQLITE_DROP if drop else SQLITE_CREATE
    if vendor == "postgresql":
        return POSTGRES_DROP if drop else POSTGRES_CREATE
    return []
