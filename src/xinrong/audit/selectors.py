"""Read the audit trail (visibility through the scope registered with ``audit.view_log``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xinrong.audit.models import AuditEntry


def audit_entry_list(*, user: Any) -> QuerySet[AuditEntry]:
    """Return the entries ``user`` may read, newest first."""
    return AuditEntry.objects.restrict(user).order_by("-seq")


def audit_day_counts(*, user: Any, since: Any) -> dict[str, int]:
    """Entries ``user`` may read since ``since``, by category, and the failed logins among them."""
    from django.db.models import Count

    rows = audit_entry_list(user=user).filter(created_at__gte=since).order_by()
    counts = {row["category"]: row["n"] for row in rows.values("category").annotate(n=Count("seq"))}
    # the same rows as the page's filter 操作 = 登录失败 (a wrong password or unknown name)
    counts["login_failures"] = rows.filter(action="login_failure").count()
    counts["total"] = sum(v for k, v in counts.items() if k != "login_failures")
    return counts
