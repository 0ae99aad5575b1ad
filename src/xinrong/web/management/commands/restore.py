"""`xinrong restore FILE [--no-media]`: replace the database by a backup (services stopped)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from xinrong.web.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by `xinrong backup`: the whole database is replaced. Stop the "
        "web server and the workers first. A backup of the other database backend is refused."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--no-media", action="store_false", dest="media", help="leave MEDIA_ROOT as it is"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = backup_restore(path=options["file"], media=options["media"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = done["manifest"]
        self.stdout.write(
            f"恢复完成 restored: {options['file']} (备份时间 {manifest['created_at']}, "
            f"{done['media_files']} files)"
        )
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write("备份早于本程序版本：请运行 xinrong migrate 完成数据库升级。")
