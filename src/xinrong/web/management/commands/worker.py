"""`xinrong worker`: recover interrupted work, then run the django-tasks database worker.

The same options as `db_worker`; the worker id defaults to ``host:pid:random`` so that a later
worker (or the periodic sweep) on this host can tell that this one died with a task RUNNING.
`xinrong serve` starts this command; production runs it as its own service.
"""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from xinrong.common.workers import worker_id_new

logger = logging.getLogger(__name__)


class Command(DbWorkerCommand):
    help = (
        "Recover interrupted ingestion (fail tasks of dead workers, restart stale batches, "
        "delete orphan uploads), then run a database task worker."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=worker_id_new())
        parser.add_argument(
            "--no-recover",
            action="store_false",
            dest="recover",
            help="start without the recovery pass",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.pop("recover", True):
            from xinrong.datahub.services.recovery import ingest_recover

            report = ingest_recover()
            self.stdout.write(
                "recovery: "
                f"{report.tasks_failed} task(s) of dead workers failed, "
                f"{report.restarted} batch(es) restarted, {report.failed} failed, "
                f"{report.files_deleted} orphan upload(s) deleted"
            )
        super().handle(*args, **options)
