"""Write (or check) the generated table of who may do what in docs/security.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinrong.web.access_table import render_into


class Command(BaseCommand):
    help = "Regenerate the permission table in docs/security.md from the permission layer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", default="docs/security.md")
        parser.add_argument("--check", action="store_true", help="fail if the file is stale")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        text = path.read_text(encoding="utf-8")
        new = render_into(text)
        if options["check"]:
            if new != text:
                raise CommandError(f"{path} is stale: run `xinrong security_doc`")
            self.stdout.write(f"{path} is current")
            return
        path.write_text(new, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
