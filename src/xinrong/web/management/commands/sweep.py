"""`xinrong sweep [--hourly]`: run the periodic jobs once, inline (cron instead of `schedule`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinrong.web.schedule import run_inline


class Command(BaseCommand):
    help = (
        "Run the periodic jobs once: demand holds and escalation, service levels, "
        "overdue loans, dispute deadlines, nonce purge, daily rescoring. With --hourly, only "
        "the jobs due more often than daily (cron: hourly with --hourly, once a day without)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hourly", action="store_true", help="skip the daily jobs (e.g. the full rescoring)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, result in run_inline(daily=not options["hourly"]).items():
            self.stdout.write(f"{name}: {result}")
