"""Backups: the database and the uploaded files in one archive, and their restore.

The archive (``.tar``) holds ``manifest.json`` (format, backend, time, the applied migrations),
the database (``database.sqlite3``: SQLite's online backup API, consistent while the server and
the workers run; or ``database.pgdump``: ``pg_dump --format=custom``) and, unless left out,
``media/`` (MEDIA_ROOT: stored uploads and issued credit reports). The keys
(``SECRET_KEY``/``FIELD_ENCRYPTION_KEY``, ``var/secret_key``) are never put in it: keep them
separately (docs/deployment.md).

A restore refuses an archive of the other database backend and one holding migrations this code
does not know (made by a newer version); it replaces the whole database.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = "xinrong-backup/1"
MANIFEST = "manifest.json"
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in Chinese."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    backend: str
    migrations: int
    media_files: int


def _backend() -> str:
    vendor = connection.vendor
    if vendor not in DB_MEMBER:
        raise BackupError(_("不支持的数据库类型：%(vendor)s。") % {"vendor": vendor})
    return vendor


def applied_migrations() -> list[list[str]]:
    """The migrations recorded in the database, as sorted [app, name] pairs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [[app, name] for app, name in cursor.fetchall()]


def _pg_env() -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password only in the environment."""
    params = connection.settings_dict
    args = ["--dbname", params["NAME"]]
    if params.get("HOST"):
        args += ["--host", str(params["HOST"])]
    if params.get("PORT"):
        args += ["--port", str(params["PORT"])]
    if params.get("USER"):
        args += ["--username", str(params["USER"])]
    env = {**os.environ}
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(
            _("找不到程序 %(program)s：请安装 PostgreSQL 客户端（版本不低于服务器）。")
            % {"program": command[0]}
        ) from exc
    if done.returncode != 0:
        raise BackupError(
            _("%(program)s 执行失败：%(error)s")
            % {"program": command[0], "error": done.stderr.strip()}
        )


def _dump_database(backend: str, target: Path) -> None:
    if backend == "sqlite":
        connection.ensure_connection()
        source = connection.connection
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)  # online: consistent even while others write
        finally:
            dest.close()
        return
    args, env = _pg_env()
    pg_dump = settings.XINRONG_PG_DUMP
    _run([pg_dump, "--format=custom", "--no-owner", "--file", str(target), *args], env)


def backup_create(*, output: Path | None = None, media: bool = True) -> BackupInfo:
    """Write a backup archive of the database (and MEDIA_ROOT unless ``media`` is false)."""
    backend = _backend()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path = Path(output) if output else Path(settings.VAR_DIR) / "backups" / f"xinrong-{stamp}.tar"
    path.parent.mkdir(parents=True, exist_ok=True)
    migrations = applied_migrations()
    media_root = Path(settings.MEDIA_ROOT)
    media_files = 0
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        dump = Path(scratch) / DB_MEMBER[backend]
        _dump_database(backend, dump)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "backend": backend,
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "migrations": migrations,
            "media": media,
        }
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(dt.datetime.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=DB_MEMBER[backend])
            if media and media_root.is_dir():
                for file in sorted(media_root.rglob("*")):
                    if file.is_file():
                        archive.add(file, arcname=f"media/{file.relative_to(media_root)}")
                        media_files += 1
        partial.chmod(0o600)
        partial.replace(path)  # a half-written backup never carries the final name
    return BackupInfo(
        path=path, backend=backend, migrations=len(migrations), media_files=media_files
    )


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
        manifest: dict[str, Any] = json.loads(member.read()) if member else {}
    except (KeyError, ValueError) as exc:
        raise BackupError(_("这不是信融备份文件：缺少或无法读取 manifest.json。")) from exc
    if manifest.get("format") != FORMAT or manifest.get("backend") not in DB_MEMBER:
        raise BackupError(_("这不是信融备份文件，或其格式版本不受支持。"))
    return manifest


def _check_migrations(manifest: dict[str, Any]) -> None:
    known = {
        (app, name)
        for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    }
    unknown = [f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known]
    if unknown:
        raise BackupError(
            _("备份来自更新的版本，含本程序不认识的数据库迁移：%(names)s。请先升级程序再恢复。")
            % {"names": "、".join(unknown[:5]) + ("……" if len(unknown) > 5 else "")}
        )


def _restore_database(backend: str, dump: Path) -> None:
    if backend == "sqlite":
        connection.ensure_connection()
        dest = connection.connection
        source = sqlite3.connect(dump)
        try:
            source.backup(dest)  # replaces every page of the live database, in one step
        finally:
            source.close()
        return
    args, env = _pg_env()
    connection.close()  # our own session would hold locks the restore needs
    # Not `pg_restore --clean`: it drops each partition's inherited constraints one by one, which
    # PostgreSQL refuses (the fact table is partitioned). Instead the schema is emptied and the
    # dump's script replayed by psql, all in ONE transaction: a failure leaves the database as it
    # was.
    missing = [p for p in (settings.XINRONG_PG_RESTORE, settings.XINRONG_PSQL) if not _found(p)]
    if missing:
        raise BackupError(
            _("找不到程序 %(program)s：请安装 PostgreSQL 客户端（版本不低于服务器）。")
            % {"program": missing[0]}
        )
    with tempfile.TemporaryDirectory(prefix="xinrong-restore-") as folder:
        # the dump as one SQL script first: a damaged file fails here, before anything changes
        script = Path(folder) / "restore.sql"
        _run(
            [settings.XINRONG_PG_RESTORE, "--no-owner", "--file", str(script), str(dump)],
            env,
        )
        prologue = Path(folder) / "prologue.sql"
        prologue.write_text("DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n")
        _run(
            [
                settings.XINRONG_PSQL,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "--file",
                str(prologue),
                "--file",
                str(script),
                *args,
            ],
            env,
        )


def _found(program: str) -> bool:
    return bool(shutil.which(program))


def backup_restore(*, path: Path, media: bool = True) -> dict[str, Any]:
    """Replace the database (and the files under MEDIA_ROOT it names) by a backup's."""
    backend = _backend()
    if not Path(path).is_file():
        raise BackupError(_("备份文件不存在：%(path)s") % {"path": path})
    if not tarfile.is_tarfile(path):
        raise BackupError(_("这不是信融备份文件：无法作为归档读取。"))
    with tarfile.open(path, "r") as archive, tempfile.TemporaryDirectory() as scratch:
        manifest = read_manifest(archive)
        if manifest["backend"] != backend:
            raise BackupError(
                _("备份来自 %(theirs)s 数据库，当前使用的是 %(ours)s 数据库，不能恢复。")
                % {
                    "theirs": BACKEND_NAMES[manifest["backend"]],
                    "ours": BACKEND_NAMES[backend],
                }
            )
        _check_migrations(manifest)
        archive.extract(DB_MEMBER[backend], scratch, filter="data")
        _restore_database(backend, Path(scratch) / DB_MEMBER[backend])
        restored_files = 0
        if media and manifest.get("media"):
            media_root = Path(settings.MEDIA_ROOT)
            members = [
                m for m in archive.getmembers() if m.name.startswith("media/") and m.isfile()
            ]
            staging = Path(scratch) / "files"
            archive.extractall(staging, members=members, filter="data")
            if (staging / "media").is_dir():
                media_root.mkdir(parents=True, exist_ok=True)
                shutil.copytree(staging / "media", media_root, dirs_exist_ok=True)
            restored_files = len(members)
    return {"manifest": manifest, "media_files": restored_files}


def table_fingerprints() -> dict[str, tuple[int, str]]:
    """Every table's row count and an order-independent SHA-256 of its rows (to compare a
    database with its restored copy: the same on the same backend)."""
    import hashlib

    result: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            digests = sorted(
                hashlib.sha256(
                    repr([bytes(v) if isinstance(v, memoryview) else v for v in row]).encode()
                ).hexdigest()
                for row in cursor.fetchall()
            )
            result[table] = (len(digests), hashlib.sha256("".join(digests).encode()).hexdigest())
    return result
