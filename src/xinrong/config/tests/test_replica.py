"""The read replica, for real: a private primary and its streaming standby (pg_basebackup -R),
started here on ports 55440/55441; the schema is the migrated test database's (pg_dump)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

BIN = Path("/usr/lib/postgresql/15/bin")
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
PRIMARY, STANDBY = 55440, 55441

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="streaming replication"),
    pytest.mark.skipif(not BIN.exists() or not Path(RUNUSER).exists(), reason="no PostgreSQL"),
]


def _pg(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RUNUSER, "-u", "postgres", "--", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        input=input,
    )


@pytest.fixture
def clusters(db: None) -> Iterator[dict[str, str]]:
    base = Path(tempfile.mkdtemp(prefix="xr-replica-"))
    shutil.chown(base, "postgres")
    primary, standby = base / "primary", base / "standby"
    started: list[Path] = []
    try:
        _pg(str(BIN / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {PRIMARY}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{base}'\nwal_level = replica\n"
                "max_wal_senders = 4\nfsync = off\nsynchronous_commit = off\n"
            )
        with open(primary / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        _pg(str(BIN / "pg_ctl"), "-D", str(primary), "-l", str(base / "primary.log"), "-w", "start")
        started.append(primary)
        source = connection.settings_dict  # the migrated test database
        name = str(source["NAME"])
        dumped = subprocess.run(
            [
                str(BIN / "pg_dump"),
                "--schema-only",
                "--no-owner",
                "-h",
                str(source["HOST"] or "127.0.0.1"),
                "-p",
                str(source["PORT"] or 5432),
                "-U",
                str(source["USER"] or "postgres"),
                name,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PGPASSWORD": str(source.get("PASSWORD") or "")},
        )
        assert dumped.returncode == 0, dumped.stderr
        dump = dumped.stdout
        _pg(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(PRIMARY), "xr")
        _pg(str(BIN / "psql"), "-q", "-h", "127.0.0.1", "-p", str(PRIMARY), "-d", "xr",
            "-v", "ON_ERROR_STOP=1", input=dump)  # fmt: skip
        _pg(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(PRIMARY), "-U", "postgres",
            "-D", str(standby), "-R", "-X", "stream", "-c", "fast", "--no-sync")  # fmt: skip
        with open(standby / "postgresql.conf", "a") as conf:
            conf.write(f"port = {STANDBY}\n")
        _pg(str(BIN / "pg_ctl"), "-D", str(standby), "-l", str(base / "standby.log"), "-w", "start")
        started.append(standby)
        yield {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PRIMARY}/xr",
            "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{STANDBY}/xr",
        }
    finally:
        for data in reversed(started):
            _pg(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def test_marked_reads_go_to_the_streaming_replica_and_writes_never_do(clusters):
    env = {**os.environ, **clusters, "DJANGO_SETTINGS_MODULE": "xinrong.config.settings"}
    env.pop("DJANGO_CONFIGURATION", None)
    out = subprocess.run(
        [sys.executable, "-m", "xinrong.config.tests.replica_probe"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["write"]["replica"] == 0 and report["write"]["default"] >= 1
    assert report["found_on_replica"]  # written on the primary, streamed to the standby
    marked = report["marked_reads"]
    assert marked["default"] == 0 and marked["replica"] >= 5  # portrait + dashboard reads
    assert report["marked_write"]["replica"] == 0 and report["marked_write"]["default"] >= 1
    # read your writes: after the block wrote, its reads use the primary (no lag to wait for)
    assert report["renamed_seen"]
    assert report["reads_after_write"] == {"default": 1, "replica": 0}
    assert report["unmarked_reads"] == {"default": 1, "replica": 0}
