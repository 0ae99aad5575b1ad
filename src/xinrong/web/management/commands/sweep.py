"""`xinrong sweep`: run every periodic job once, inline (for cron instead of `xinrong schedule`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinrong.web.schedule import run_inline


class Command(BaseCommand):
    help = (
        "Run the periodic jobs once: demand holds and escalation, service levels, "
        "overdue loans, dispute deadlines."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, result in run_inline().items():
            self.stdout.write(f"{name}: {result}")
