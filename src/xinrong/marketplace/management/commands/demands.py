"""`xinrong demands sweep [--now ISO-DATETIME]`: end overdue holds, escalate stale demands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from xinrong.marketplace.services.demands import demands_escalate_stale, demands_release_expired


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Financing-demand housekeeping. sweep: end overdue holds, escalate stale demands."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser(
            "sweep",
            help="return demands whose hold ended to the pool; escalate demands untaken too long",
        )
        sweep.add_argument(
            "--now",
            type=_moment,
            default=None,
            help="run as of this moment (ISO 8601, local time if no offset), default now",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "sweep":
            raise CommandError(f"unknown action {options['action']}")
        now = options.get("now")
        expired = demands_release_expired(now=now)
        escalated = demands_escalate_stale(now=now)
        self.stdout.write(f"承接超时退回 expired: {expired}")
        self.stdout.write(self.style.SUCCESS(f"提请运营方 escalated: {escalated}"))
