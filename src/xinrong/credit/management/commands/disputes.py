"""`xinrong disputes escalate [--today YYYY-MM-DD]`: flag overdue disputes to the operator."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinrong.credit.services.dispute_deadlines import dispute_escalate_overdue


class Command(BaseCommand):
    help = "Dispute housekeeping. escalate: flag disputes past their 20-day deadline."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        escalate = sub.add_parser(
            "escalate", help="flag open disputes past their deadline and notify the operator"
        )
        escalate.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="run as of this date (YYYY-MM-DD), default today",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "escalate":
            raise CommandError(f"unknown action {options['action']}")
        escalated = dispute_escalate_overdue(today=options.get("today"))
        for d in escalated:
            self.stdout.write(f"#{d.pk} {d.entity.uscc} due {d.due_on.isoformat()}")
        self.stdout.write(self.style.SUCCESS(f"逾期督办 escalated: {len(escalated)}"))
