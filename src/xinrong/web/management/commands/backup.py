"""`xinrong backup [--output FILE] [--no-media]`: one archive of the database and uploaded files."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinrong.web.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup, or pg_dump) and MEDIA_ROOT into one archive "
        "with a manifest (backend, migrations). The keys are not included: keep them separately."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--output", "-o", type=Path, help="archive to write (default var/backups/…)"
        )
        parser.add_argument(
            "--no-media", action="store_false", dest="media", help="leave MEDIA_ROOT out"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            info = backup_create(output=options["output"], media=options["media"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"备份完成 backup written: {info.path} ({info.backend}, "
            f"{info.migrations} migrations, {info.media_files} files)"
        )
