"""The demo world for tests: seeded once per test process, then restored from a snapshot.

Seeding the demo (``seed --scale demo``) takes a minute or more, and a dozen test modules start
from it. The first module of a process to ask for a world seeds it and keeps a copy of the whole
database; the next module asking for the same world gets that copy back in a second or two.

- SQLite (the in-memory test database): SQLite's online backup, into a private in-memory
  database and back.
- PostgreSQL: every table's rows as binary ``COPY``, and the sequences' positions; restoring
  truncates every table, copies the rows back with triggers (foreign keys) off, and sets the
  sequences, in one transaction.

The files the seed writes (evidence, PDFs: half a megabyte) are copied with it and put back
under the ``MEDIA_ROOT`` of the moment (some test packages give every test its own). Call it
outside an atomic block (a module fixture under ``django_db_blocker.unblock()``, or a
transactional test).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

_WORLDS: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def demo_world(*, seed_value: int = 20221, history: bool = True) -> Any:
    """Make the database the seeded demo world of ``seed_value``; return the seed's report."""
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    from xinrong.web.seed import seed

    key = (connection.vendor, connection.settings_dict["NAME"], seed_value, history)
    held = _WORLDS.get(key)
    media = Path(settings.MEDIA_ROOT)
    if held is not None:
        (copy, files), report = held
        _restore(copy)
        shutil.copytree(files, media, dirs_exist_ok=True)
        cache.clear()  # nothing computed from the database before it changed under it
        return report
    report = seed(scale="demo", seed_value=seed_value, history=history)
    files = Path(tempfile.mkdtemp(prefix="xinrong-world-")) / "media"
    if media.is_dir():
        shutil.copytree(media, files)
    else:
        files.mkdir()
    _WORLDS[key] = ((_snapshot(), files), report)
    return report


def _snapshot() -> Any:
    from django.db import connection

    assert not connection.in_atomic_block, "a world is copied outside a transaction"
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        return copy
    if connection.vendor == "postgresql":
        return _pg_snapshot()
    raise NotImplementedError(connection.vendor)


def _restore(copy: Any) -> None:
    from django.db import connection

    assert not connection.in_atomic_block, "a world is restored outside a transaction"
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        copy.backup(connection.connection)
        return
    _pg_restore(copy)


def _pg_snapshot() -> dict[str, Any]:
    from django.db import connection

    quote = connection.ops.quote_name
    rows: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        tables = _pg_tables(cursor)
        for table in tables:
            data = bytearray()
            with cursor.copy(f"COPY {quote(table)} TO STDOUT (FORMAT binary)") as copy:
                for chunk in copy:
                    data += chunk
            rows[table] = bytes(data)
        cursor.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value "
            "FROM pg_sequences WHERE schemaname = current_schema()"
        )
        sequences = cursor.fetchall()
    return {"tables": tables, "rows": rows, "sequences": sequences}


def _pg_restore(copy: dict[str, Any]) -> None:
    from django.db import connection, transaction

    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        now = _pg_tables(cursor)
        assert sorted(now) == sorted(copy["tables"]), "the schema changed since the snapshot"
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("TRUNCATE " + ", ".join(quote(t) for t in now))
        for table, data in copy["rows"].items():
            with cursor.copy(f"COPY {quote(table)} FROM STDIN (FORMAT binary)") as target:
                target.write(data)
        for name, last in copy["sequences"]:
            if last is None:
                cursor.execute("SELECT setval(%s::regclass, 1, false)", [name])
            else:
                cursor.execute("SELECT setval(%s::regclass, %s, true)", [name, last])


def _pg_tables(cursor: Any) -> list[str]:
    """The schema's own tables (not a session's temporary ones, which die with it); of a
    partitioned table (datahub_fact) its partitions, which hold the rows COPY can move."""
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND NOT EXISTS "
        "(SELECT 1 FROM pg_partitioned_table p WHERE p.partrelid = "
        "(quote_ident(schemaname) || '.' || quote_ident(tablename))::regclass) ORDER BY tablename"
    )
    return [row[0] for row in cursor.fetchall()]
