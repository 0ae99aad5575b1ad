"""``xinrong audit verify``: recompute the audit trail's SM3 chain and report the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from xinrong.audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Audit trail: verify the hash chain (exit 1 on any altered, removed or inserted row)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="sub", required=True)
        sub.add_parser("verify", help="recompute every entry's SM3 hash and the chain head")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_chain_verify()
        if result.ok:
            self.stdout.write(
                _("审计日志完整：共 %(n)d 条，最后一条第 %(s)d 条，摘要 %(h)s")
                % {"n": result.count, "s": result.last_seq, "h": result.last_hash}
            )
            return
        self.stderr.write(
            _("审计日志已被篡改：第 %(s)s 条，%(r)s") % {"s": result.bad_seq, "r": result.reason}
        )
        raise SystemExit(1)
