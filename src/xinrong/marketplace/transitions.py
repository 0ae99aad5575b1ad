"""The parts the marketplace's workflow declarations are made of.

Who is told (the recipients of the actions' notices) and the guards of the demand actions.
Services that validate inputs before moving refuse early with ``Workflow.check`` (the kernel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import Role
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.credit.recipients import entity_users
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.reference import divisions

OFFICER_ROLES = frozenset({Role.LOAN_OFFICER, Role.INSTITUTION_ADMIN})
REVIEWER_ROLES = frozenset({Role.REVIEWER, Role.INSTITUTION_ADMIN})


# ---------------------------------------------------------------- recipients


def staff_of(organisation_id: int | None, roles: Iterable[str]) -> list[User]:
    """Return the active people (not API keys) of an organisation holding one of ``roles``."""
    if organisation_id is None:
        return []
    return list(
        User.objects.filter(organisation_id=organisation_id, is_active=True, api_key__isnull=True)
        .filter(roles__role__in=sorted(roles))
        .distinct()
    )


def enterprise_of(obj: Any) -> list[User]:
    """The users of the enterprise the application, demand or reserve entry belongs to."""
    return entity_users(entity=obj.entity)


def institution_staff(obj: Any) -> list[User]:
    """The officers and reviewers of the institution an application was made to."""
    return staff_of(obj.institution_id, OFFICER_ROLES | REVIEWER_ROLES)


def product_staff(obj: Any) -> list[User]:
    """The people of the product's institution who maintain its products."""
    return staff_of(obj.institution_id, (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER))


def provider_staff(obj: Any) -> list[User]:
    """The people of the guarantor or insurer a guarantee request is addressed to."""
    return staff_of(obj.provider_id, OFFICER_ROLES | REVIEWER_ROLES)


# ---------------------------------------------------------------- refusing early


# ---------------------------------------------------------------- demand guards


def demand_region_covered(demand: Any, ctx: Mapping[str, Any]) -> None:
    """Guard: the taking institution's service regions cover the demand's place (403)."""
    org_id = ctx["actor"].organisation_id
    if not demand_selectors.institution_covers(
        institution_id=org_id, division_code=demand.division_code
    ):
        raise PermissionDeniedError(
            "outside_region",
            _("该需求所在地区（%(r)s）不在本机构的服务地区内（按本机构已上架产品的适用地区）")
            % {"r": divisions.full_name(demand.division_code) or demand.division_code},
            {"division_code": demand.division_code},
        )


def demand_not_held_by_other(demand: Any, ctx: Mapping[str, Any]) -> None:
    """Guard: no other institution holds the demand right now (409, the hold's end named).

    ``data["at"]`` (ISO time) is the moment the take happens when it is not now (the sweeps).
    """
    at = ctx.get("data", {}).get("at")
    now = dt.datetime.fromisoformat(at) if at else timezone.now()
    if (
        demand_selectors.demand_is_held(demand, now=now)
        and demand.held_by_id != ctx["actor"].organisation_id
    ):
        holder = Organisation.objects.get(pk=demand.held_by_id)
        until = timezone.localtime(demand.held_until).strftime("%Y-%m-%d %H:%M")
        raise ConflictError(
            "held",
            _("该需求已由“%(o)s”承接，承接期至 %(t)s；到期未办理将退回需求池，届时可再抢单")
            % {"o": holder.name, "t": until},
            {"held_by": holder.name, "held_until": demand.held_until.isoformat()},
        )


def demand_held_by_actor(demand: Any, ctx: Mapping[str, Any]) -> None:
    """Guard: the actor's institution holds the demand now (only the holder releases it)."""
    if demand.held_by_id != ctx["actor"].organisation_id or not demand_selectors.demand_is_held(
        demand
    ):
        raise ConflictError("not_held", _("本机构当前未承接该需求（或承接期已过），无需放弃"))
