"""Read the audit trail (visibility through the scope registered with ``audit.view_log``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xinrong.audit.models import AuditEntry


def audit_entry_list(*, user: Any) -> QuerySet[AuditEntry]:
    """Return the entries ``user`` may read, newest first."""
    return AuditEntry.objects.restrict(user).order_by("-seq")
