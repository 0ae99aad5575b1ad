"""`xinrong score --all | --entity USCC …`: score entities with the active model."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.credit.services import scoring as scoring_services
from xinrong.enterprises.models import MarketEntity
from xinrong.reference import uscc as uscc_codec
from xinrong.reference.errors import ReferenceDataError


class Command(BaseCommand):
    help = "Score every entity (--all) or some (--entity USCC) with the active model."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--all", action="store_true")
        target.add_argument("--entity", action="append", metavar="USCC")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        ids = None
        if options["entity"]:
            try:
                codes = [uscc_codec.parse(c).code for c in options["entity"]]
            except ReferenceDataError as exc:
                raise CommandError(str(exc.message)) from exc
            found = dict(MarketEntity.objects.filter(uscc__in=codes).values_list("uscc", "pk"))
            missing = [c for c in codes if c not in found]
            if missing:
                raise CommandError(f"未找到市场主体 not registered: {', '.join(missing)}")
            ids = list(found.values())
        start = time.perf_counter()
        try:
            run = scoring_services.profiles_score(entity_ids=ids, as_of=options["as_of"])
        except SERVICE_ERRORS as exc:
            _status, body = error_payload(exc)
            raise CommandError(body["message"]) from exc
        seconds = time.perf_counter() - start
        psi = f", score PSI {run.psi_score:.4f}" if run.psi_score is not None else ""
        self.stdout.write(
            f"scored {run.entities:,} entities with model v{run.model.version} "
            f"in {seconds:.1f} s{psi}"
        )
