"""Who may read the audit trail (``audit.view_log``) and which of its rows.

Declared here, not in ``xinrong.audit``: the audit app sits below accounts (every app may record
into it) and so cannot import the permission layer.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    is_central_operator_staff,
    is_substation_staff,
    region_prefix_for,
)
from xinrong.audit.models import AuditEntry
from xinrong.common.access import register_scope

declare(
    "audit.view_log",
    is_central_operator_staff | is_substation_staff,
    label=_("查看审计日志"),
    objects=_(
        "平台运营方的审计员与运营管理员：全部条目；子站的审计员与运营管理员：本区划内有所在地区的条目"
    ),
)


@register_scope(AuditEntry)
def _audit_entry_scope(user: Any) -> Q | None:
    """Province-wide staff see every entry; a sub-station only entries of its region."""
    if is_central_operator_staff(user):
        return Q()
    if is_substation_staff(user):
        prefix = region_prefix_for(user)
        return Q(region_code__startswith=prefix) & ~Q(region_code="") if prefix else None
    return None
