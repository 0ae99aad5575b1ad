"""The one permission layer: who may see and do what, decided here and nowhere else.

Three parts, asked by every view, API endpoint, selector, service, template and menu item:

1. **Base predicates** about a user (``is_operator_admin``, ``is_auditor``, ``has_role(...)``),
   built with the ``rules`` library, so Django's ``user.has_perm``, templates' ``{% if perms %}``
   and ``{% has_perm %}`` all answer from the same place.
2. **Named permissions per action** (``declare("credit.dispute_handle", predicate, ...)``). Each app
   declares its own in ``<app>/rules.py`` (loaded when the app is ready); each declaration carries
   a Chinese label and the object rule in words, from which docs/security.md is generated.
   A permission asked *without* an object answers "may this user do this to some object" (menus,
   buttons, list pages); asked *with* an object it also checks the object and the region.
3. **The region scope**: :func:`region_prefix_for` turns a user into the division-code prefix it is
   confined to (a sub-station: its region; a department with a region: that region), and
   :func:`region_q` into the ``Q`` that restricts a queryset to it. Models register how a user's
   visible rows are found with :func:`xinrong.common.access.register_scope`; selectors call
   ``Model.objects.restrict(user)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import rules
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import ORG_GROUP, OrgGroup, OrgKind, Role
from xinrong.common.errors import PermissionDeniedError
from xinrong.reference import divisions

if TYPE_CHECKING:

    class Predicate(Protocol):
        """The ``rules`` library's predicate as mypy sees it (the library ships no types)."""

        def __call__(self, *args: Any) -> bool: ...
        def test(self, user: Any = ..., obj: Any = ...) -> bool: ...
        def __and__(self, other: Predicate) -> Predicate: ...
        def __or__(self, other: Predicate) -> Predicate: ...
        def __xor__(self, other: Predicate) -> Predicate: ...
        def __invert__(self) -> Predicate: ...

else:
    Predicate = rules.Predicate

predicate: Callable[..., Predicate] = rules.predicate


# --- region scope ---------------------------------------------------------------------------


def region_prefix_for(user: Any) -> str | None:
    """Return the division-code prefix the user is confined to, or None for no region limit.

    A sub-station sees only its region; a government department with a region sees only that
    region; the platform operator, institutions and enterprises have no region limit of their
    own (institutions and enterprises are limited by ownership and consent instead).
    """
    if getattr(user, "is_superuser", False):
        return None
    org = getattr(user, "organisation", None)
    if org is None:
        return None
    if org.kind in (OrgKind.SUBSTATION, OrgKind.GOVERNMENT) and org.region_code:
        return divisions.descendants_prefix(org.region_code)
    return None


def region_q(user: Any, field: str) -> Q:
    """Return the filter on ``field`` (a division-code column) keeping the user's region."""
    prefix = region_prefix_for(user)
    return Q() if prefix is None else Q(**{f"{field}__startswith": prefix})


def in_region(user: Any, division_code: str | None) -> bool:
    """Return True if a division code lies inside the user's region (always, without a limit)."""
    prefix = region_prefix_for(user)
    return prefix is None or (division_code or "").startswith(prefix)


# --- base predicates ------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _group(user: Any) -> OrgGroup | None:
    org = getattr(user, "organisation", None)
    return ORG_GROUP[org.kind] if org is not None else None


def _roles(user: Any) -> frozenset[str]:
    return user.role_codes if hasattr(user, "role_codes") else frozenset()


def has_role(*roles: str) -> Predicate:
    """Return a predicate: the user holds one of ``roles`` in its organisation."""
    wanted = frozenset(roles)

    def fn(user: Any) -> bool:
        return _active(user) and bool(_roles(user) & wanted)

    return predicate(fn, name="has_role(" + ",".join(sorted(wanted)) + ")")


def in_group(group: str) -> Predicate:
    """Return a predicate: the user's organisation is on this side of the platform."""

    def fn(user: Any) -> bool:
        return _active(user) and _group(user) == group

    return predicate(fn, name=f"in_group({group})")


def org_kind_in(*kinds: str) -> Predicate:
    """Return a predicate: the user's organisation is of one of ``kinds``."""
    wanted = frozenset(kinds)

    def fn(user: Any) -> bool:
        org = getattr(user, "organisation", None)
        return _active(user) and org is not None and org.kind in wanted

    return predicate(fn, name="org_kind_in(" + ",".join(sorted(wanted)) + ")")


@predicate
def is_superuser(user: Any) -> bool:
    """The installation's superuser: the province-wide operator admin."""
    return _active(user) and bool(user.is_superuser)


@predicate
def is_active_user(user: Any) -> bool:
    """Any logged-in, active user."""
    return _active(user)


# The operator's (or a sub-station's) administrators; a sub-station's scope is its region.
is_operator_admin = is_superuser | (in_group(OrgGroup.OPERATOR) & has_role(Role.OPERATOR_ADMIN))
# The central operator's administrators (province-wide, not a sub-station).
is_central_operator_admin = is_superuser | (
    org_kind_in(OrgKind.OPERATOR) & has_role(Role.OPERATOR_ADMIN)
)
# The central operator's administrators and auditors (province-wide).
is_central_operator_staff = is_superuser | (
    org_kind_in(OrgKind.OPERATOR) & has_role(Role.OPERATOR_ADMIN, Role.AUDITOR)
)
# A sub-station's administrators and auditors (their region).
is_substation_staff = org_kind_in(OrgKind.SUBSTATION) & has_role(Role.OPERATOR_ADMIN, Role.AUDITOR)
# The operator's auditors: read everything in their region, change nothing.
is_auditor = in_group(OrgGroup.OPERATOR) & has_role(Role.AUDITOR)
is_operator_staff = is_operator_admin | is_auditor
is_institution = in_group(OrgGroup.INSTITUTION) & has_role(
    Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER, Role.REVIEWER
)
is_institution_admin = in_group(OrgGroup.INSTITUTION) & has_role(Role.INSTITUTION_ADMIN)
is_department = in_group(OrgGroup.GOVERNMENT) & has_role(
    Role.DATA_PROVIDER, Role.POLICY_PUBLISHER, Role.FUND_APPROVER
)
is_data_provider = in_group(OrgGroup.GOVERNMENT) & has_role(Role.DATA_PROVIDER)
is_enterprise_user = in_group(OrgGroup.ENTERPRISE) & has_role(
    Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT
)
is_enterprise_owner = in_group(OrgGroup.ENTERPRISE) & has_role(Role.ENTERPRISE_OWNER)
# 甘霖工程's field officers: a bank's staff or a community's (a government organisation's) workers
is_field_officer = (in_group(OrgGroup.INSTITUTION) | in_group(OrgGroup.GOVERNMENT)) & has_role(
    Role.FIELD_OFFICER
)

# Two-factor login (docs/security.md, "两步验证"): required for the platform's operator and its
# sub-stations, government departments and institution admins; optional for everyone else.
needs_second_factor = (
    is_superuser
    | org_kind_in(OrgKind.OPERATOR, OrgKind.SUBSTATION, OrgKind.GOVERNMENT)
    | (in_group(OrgGroup.INSTITUTION) & has_role(Role.INSTITUTION_ADMIN))
)


def object_rule(fn: Callable[[Any, Any], bool]) -> Predicate:
    """Wrap an object check ``fn(user, obj)``; asked without an object it answers True.

    Asked without an object a permission means "may do this to some object" (menus, buttons,
    list pages); the role predicate it is combined with decides. With an object, ``fn`` decides.
    """

    def check(user: Any, obj: Any) -> bool:
        if obj is None:
            return True
        return bool(fn(user, obj))

    return predicate(check, name=getattr(fn, "__name__", "object_rule"))


# --- named permissions ----------------------------------------------------------------------


@dataclass(frozen=True)
class PermissionSpec:
    """One named permission: what it allows, and on which objects (in words, for the docs)."""

    name: str
    label: str | Promise
    objects: str | Promise
    predicate: Predicate


PERMISSIONS: dict[str, PermissionSpec] = {}


def declare(
    name: str, predicate: Predicate, *, label: str | Promise, objects: str | Promise = ""
) -> None:
    """Declare a named permission (``<app>.<noun>_<verb>``) and register it with ``rules``."""
    if name in PERMISSIONS:
        raise ImproperlyConfigured(f"permission {name} declared twice")
    PERMISSIONS[name] = PermissionSpec(name, label, objects, predicate)
    rules.add_perm(name, predicate)


# A finance department (财政厅、财政局) is a government organisation named so: it approves and
# pays special funds across departments (policies) and manages the risk-compensation funds
# (riskfund). Recognised by name until organisations carry a function code.
FINANCE_MARK = "财政"


def is_finance_department(org: Any) -> bool:
    """A government organisation that is a finance department (财政厅、财政局)."""
    return org is not None and org.kind == "government" and FINANCE_MARK in (org.name or "")


@predicate
def in_finance_department(user: Any) -> bool:
    """The user's organisation is a finance department."""
    return is_finance_department(getattr(user, "organisation", None))


def can(user: Any, name: str, obj: Any = None) -> bool:
    """Return True if ``user`` may take the action ``name`` (on ``obj`` when given)."""
    if name not in PERMISSIONS:
        raise ImproperlyConfigured(f"unknown permission {name}")
    if not _active(user):
        return False
    return bool(rules.has_perm(name, user, obj))


def require(user: Any, name: str, obj: Any = None, *, message: str | Promise = "") -> None:
    """Raise ``PermissionDeniedError`` (403) unless ``user`` may take the action ``name``."""
    if not can(user, name, obj):
        spec = PERMISSIONS[name]
        raise PermissionDeniedError(
            "forbidden",
            str(message or _("您无权%(action)s") % {"action": spec.label}),
            {"permission": name},
        )


def is_declared(name: str) -> bool:
    """Return True for the names of the platform's own permissions (not Django's model perms)."""
    return name in PERMISSIONS
