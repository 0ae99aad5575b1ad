"""`xinrong loans import --institution ORG FILE.json`: import a lender's historical loans.

The file is the bank API's body, ``{"loans": [...]}`` (docs/bank-api.md §7); it is sent to the
same service in calls of at most 1,000 loans, each all-or-nothing. Loans already imported with
the same content are reported as present, so a file may be imported again after a failure.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from xinrong.accounts.models import Organisation
from xinrong.common.errors import ApplicationError
from xinrong.marketplace.services.loan_history import (
    MAX_LOANS,
    loan_history_import,
    loans_from_json,
)


def _institution(value: str) -> Organisation:
    match = Q(name=value.strip())
    if value.strip().isdigit():
        match |= Q(pk=int(value.strip()))
    found = list(Organisation.objects.filter(match)[:2])
    if len(found) != 1:
        why = "不唯一，请用机构编号" if found else "不存在"
        raise CommandError(f"机构“{value}”{why}（--institution 填机构编号或全称）")
    return found[0]


class Command(BaseCommand):
    help = "Loans. import: load an institution's historical loans from a JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import", help="import historical loans with repayments and overdue records"
        )
        load.add_argument("--institution", required=True, help="lender: organisation id or name")
        load.add_argument("file", help='JSON file {"loans": [...]} (docs/bank-api.md)')

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "import":
            raise CommandError(f"unknown action {options['action']}")
        institution = _institution(options["institution"])
        path = Path(options["file"])
        try:
            loans = loans_from_json(path.read_bytes(), source=f"{path} ")
        except OSError as exc:
            raise CommandError(f"读不到文件 {path}：{exc}") from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        created = present = 0
        for start in range(0, len(loans), MAX_LOANS):
            part = loans[start : start + MAX_LOANS]
            try:
                answer = loan_history_import(institution=institution, actor=None, loans=part)
            except ApplicationError as exc:
                for error in (exc.extra or {}).get("errors", []):
                    self.stderr.write(_shift(error["message"], start))
                raise CommandError(
                    f"第 {start + 1}–{start + len(part)} 笔未导入：{_shift(exc.message, start)}"
                    + (f"（此前 {created} 笔已导入）" if created else "")
                ) from exc
            created += answer["created"]
            present += answer["present"]
            self.stdout.write(
                f"第 {start + 1}–{start + len(part)} 笔：新导入 {answer['created']}，"
                f"已存在 {answer['present']}，数据批次 {answer['facts_batch'] or '-'}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{institution.name}：共 {len(loans)} 笔，新导入 {created}，已存在 {present}"
            )
        )


def _shift(message: str, start: int) -> str:
    """Renumber ``loans[i]`` of one call to the position in the whole file."""
    if not start:
        return message
    return re.sub(r"loans\[(\d+)\]", lambda m: f"loans[{int(m.group(1)) + start}]", message)
