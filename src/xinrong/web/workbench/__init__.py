"""Every role's home page is a workbench: its work, its figures, and what to do next.

``workbench_for(user)`` returns the template and context of the user's home. Each figure comes
from a selector that applies the permission layer's scopes (the same selector as the list page a
section links to), and each section is shown only when the user ``can`` the permission behind it,
so new roles and institution kinds get the sections their permissions allow.
"""

from __future__ import annotations

from typing import Any

from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.models import User
from xinrong.web.workbench import field_officer, sections


def workbench_for(user: User) -> tuple[str, dict[str, Any]]:
    """Return (template, context) of the user's workbench."""
    group = user.group
    if field_officer.is_field_officer_only(user):  # 甘霖工程's 网格员 (issue 16, grid)
        return "web/home_field_officer.html", field_officer.field_officer(user)
    if group == OrgGroup.ENTERPRISE:
        return "web/home_enterprise.html", sections.enterprise(user)
    if group == OrgGroup.INSTITUTION:
        return "web/home_institution.html", sections.institution(user)
    if group == OrgGroup.GOVERNMENT:
        return "web/home_government.html", sections.government(user)
    return "web/home_operator.html", sections.operator(user)
