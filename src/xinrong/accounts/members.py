"""Reads behind the institution's workbench: its people and its API keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from xinrong.accounts import permissions
from xinrong.accounts.models import ApiKey, User


@dataclass
class Members:
    """How many people and live API keys the user's organisation has."""

    users: int
    keys: int
    keys_unused: int
    can_manage_keys: bool
    can_manage_users: bool


def organisation_members(*, user: User) -> Members:
    """Return the counts of the user's organisation's people (not service accounts) and keys."""
    org = user.organisation
    if org is None:
        return Members(0, 0, 0, False, False)
    people = User.objects.filter(organisation=org, is_active=True, api_key__isnull=True).aggregate(
        n=Count("id")
    )
    keys = (
        ApiKey.objects.restrict(user)
        .filter(organisation=org, revoked_at__isnull=True)
        .aggregate(n=Count("id"), unused=Count("id", filter=Q(last_used_at__isnull=True)))
        if permissions.can(user, "accounts.apikey_manage", org)
        else {"n": 0, "unused": 0}
    )
    return Members(
        people["n"] or 0,
        keys["n"] or 0,
        keys["unused"] or 0,
        permissions.can(user, "accounts.apikey_manage", org),
        permissions.can(user, "accounts.user_create", org),
    )
