"""`xinrong apikeys purge`: housekeeping of signed API requests (nonces, idempotency records)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinrong.accounts.services.api_requests import api_replay_purge


class Command(BaseCommand):
    help = "API key housekeeping. purge: delete spent nonces and expired idempotency records."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "purge",
            help="delete nonces whose time window has passed and idempotency records "
            "older than XINRONG_API_IDEMPOTENCY_DAYS",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "purge":
            raise CommandError(f"unknown action {options['action']}")
        nonces, records = api_replay_purge()
        self.stdout.write(
            self.style.SUCCESS(f"清理 purged: nonces {nonces}, idempotency records {records}")
        )
