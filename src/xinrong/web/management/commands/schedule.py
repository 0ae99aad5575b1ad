"""`xinrong schedule`: enqueue the periodic jobs on time, forever (`xinrong serve` starts it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinrong.web.schedule import jobs, loop


class Command(BaseCommand):
    help = "Enqueue the platform's periodic jobs at their intervals for the task worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tick", type=float, default=30.0, help="seconds between checks")

    def handle(self, *args: Any, **options: Any) -> None:
        for job in jobs():
            self.stdout.write(f"{job.name}: every {job.minutes} min")
        loop(tick_seconds=options["tick"])
