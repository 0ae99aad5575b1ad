"""`xinrong ingest --source CODE --category CAT FILE`: deliver a file through the pipeline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.choices import BatchChannel
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_get


def _count_lines(path: Path) -> int:
    if path.suffix.lower() != ".csv":
        return 0
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


class Command(BaseCommand):
    help = "Ingest an XLSX/CSV file of one category from one data source."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, help="data source code")
        parser.add_argument("--category", required=True, choices=sorted(CATEGORIES))
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"文件不存在 file not found: {path}")
        total = _count_lines(path)
        interactive = sys.stderr.isatty()

        def progress(batch: IngestBatch) -> None:
            if total:
                done = min(batch.processed / total, 1.0)
                bar = "#" * int(done * 30)
                line = f"\r[{bar:<30}] {batch.processed:,}/{total:,} rows"
            else:
                line = f"\r{batch.processed:,} rows"
            sys.stderr.write(line if interactive else line.strip("\r") + "\n")
            sys.stderr.flush()

        try:
            source = source_get(code=options["source"])
            with path.open("rb") as fh:
                batch = batch_ingest(
                    source=source,
                    category=options["category"],
                    fileobj=fh,
                    filename=path.name,
                    channel=BatchChannel.CLI,
                    progress=progress,
                )
        except SERVICE_ERRORS as exc:
            _status, body = error_payload(exc)
            raise CommandError(body["message"]) from exc
        if interactive:
            sys.stderr.write("\n")
        self.stdout.write(
            f"batch {batch.pk} {batch.status}: received {batch.received}, accepted "
            f"{batch.accepted}, rejected {batch.rejected}, duplicates {batch.duplicates}, "
            f"unresolved {batch.unresolved}"
        )
        if batch.started_at and batch.finished_at:
            seconds = max((batch.finished_at - batch.started_at).total_seconds(), 1e-6)
            self.stdout.write(
                f"pipeline {seconds:.2f} s, {batch.received / seconds:,.0f} rows/s "
                f"(检查、关联、去重、入库)"
            )
