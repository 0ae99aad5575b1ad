"""Migrated databases for the tests that run xinrong in subprocesses and kill them.

``xinrong migrate`` on an empty database is most of such a test's cost, so it runs once per test
session (per pytest-xdist worker) into a template, and each test gets a copy of its own:

- SQLite: the migrated file, copied with SQLite's backup API into the test's ``XINRONG_VAR``;
- PostgreSQL (``DATABASE_URL``): ``CREATE DATABASE … TEMPLATE`` the migrated one, dropped after
  the test; the template is dropped at the end of the session.

A copy is exactly what ``migrate`` would have left: same schema, same data migrations.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import xinrong

DB_FILE = "xinrong.sqlite3"


def subprocess_env(var: Path, database_url: str | None = None) -> dict[str, str]:
    """Environment of an xinrong subprocess with its own var folder (and database)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.pop("DATABASE_URL", None)
    env.update(
        XINRONG_VAR=str(var),
        SECRET_KEY="kill-test-" + "k" * 40,
        DJANGO_SETTINGS_MODULE="xinrong.config.settings",
        # several chunks, so the kill lands between two of them and never after the last
        XINRONG_INGEST_CHUNK_ROWS="5000",
        # the code under test, not whichever copy of xinrong is installed in the environment
        PYTHONPATH=str(Path(xinrong.__file__).resolve().parent.parent),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "xinrong.cli", "migrate", "--noinput", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )


def _server(url: str) -> str:
    """The URL of the server's maintenance database for a database URL."""
    return url.rpartition("/")[0] + "/postgres"


def pg_template_create(url: str, name: str, var: Path) -> None:
    """Create and migrate database ``name`` on the server of ``url`` (the template)."""
    import psycopg

    with psycopg.connect(_server(url), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    migrate(subprocess_env(var, f"{url.rpartition('/')[0]}/{name}"))


def pg_copy_create(url: str, template: str, name: str) -> str:
    """Create database ``name`` as a copy of ``template``; return its URL."""
    import psycopg

    with psycopg.connect(_server(url), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return f"{url.rpartition('/')[0]}/{name}"


def pg_drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_server(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_templates: dict[str, tuple[str, str]] = {}  # per test process: one template, however many
_users: list[int] = [0]  # modules import the fixture (each import is a fixture of its own)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """("sqlite", folder holding the migrated file) or ("postgres", template database name).

    Made once per test process (each pytest-xdist worker), whichever test module asks first;
    the PostgreSQL template is dropped when the session ends.
    """
    url = os.environ.get("DATABASE_URL", "")
    if "template" not in _templates:
        var = tmp_path_factory.mktemp("migrated-template")
        if url.startswith("postgres"):
            name = f"xinrong_tpl_{uuid.uuid4().hex[:8]}"
            try:
                pg_template_create(url, name, var)
            except BaseException:
                pg_drop(url, name)
                raise
            _templates["template"] = ("postgres", name)
        else:
            migrate(subprocess_env(var))
            _templates["template"] = ("sqlite", str(var))
    _users[0] += 1
    try:
        yield _templates["template"]
    finally:
        _users[0] -= 1
        if not _users[0]:
            kind, name = _templates.pop("template")
            if kind == "postgres":
                pg_drop(url, name)


@pytest.fixture
def migrated_env(tmp_path, migrated_template) -> Iterator[dict[str, str]]:
    """Environment for subprocesses with a migrated database of this test's own."""
    kind, where = migrated_template
    url = os.environ.get("DATABASE_URL", "")
    if kind == "postgres":
        name = f"xinrong_kill_{uuid.uuid4().hex[:8]}"
        env = subprocess_env(tmp_path, pg_copy_create(url, where, name))
        try:
            yield env
        finally:
            pg_drop(url, name)
        return
    src_var = Path(where)
    for item in src_var.iterdir():  # anything migrate left besides the database
        if item.name.startswith(DB_FILE):
            continue
        if item.is_dir():
            shutil.copytree(item, tmp_path / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, tmp_path / item.name)
    with (
        sqlite3.connect(src_var / DB_FILE) as src,
        sqlite3.connect(tmp_path / DB_FILE) as dst,
    ):
        src.backup(dst)
    dst.close()
    src.close()
    yield subprocess_env(tmp_path)
