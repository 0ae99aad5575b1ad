"""`xinrong platform_events flush|refused|retry [ID ...]`: the outbox of live loan events."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinrong.datahub.models import PendingPlatformEvent
from xinrong.datahub.services.sources import (
    platform_events_flush,
    platform_events_refused,
    platform_events_retry,
)


class Command(BaseCommand):
    help = (
        "Live loan events wait in an outbox until a coalesced flush records them as facts. "
        "flush: record every pending event now; refused: list the events a flush refused, with "
        "their errors; retry [ID ...]: put refused events (all, or these) back for the next flush."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["flush", "refused", "retry"])
        parser.add_argument("ids", nargs="*", type=int, help="events to retry (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "flush":
            report = platform_events_flush()
            self.stdout.write(
                f"已记录 recorded {report.recorded}，拒收 refused {report.refused}，"
                f"批次 batches {report.batches}"
            )
        elif action == "refused":
            refused = platform_events_refused()
            for event in refused:
                when = event.failed_at.isoformat() if event.failed_at else "-"
                self.stdout.write(f"#{event.pk}\t{event.note}\t{when}\t{event.error}")
            waiting = PendingPlatformEvent.objects.filter(failed_at__isnull=True).count()
            self.stdout.write(f"拒收 refused {len(refused)}，待记录 waiting {waiting}")
        else:
            count = platform_events_retry(ids=options["ids"] or None)
            self.stdout.write(f"已放回待记录 requeued {count}")
