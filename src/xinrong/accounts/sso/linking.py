"""How a provider's claim finds (or opens) a login: resolvers registered by the registry apps.

accounts sits below the enterprise registry (ARCHITECTURE.md §2), so the registry registers its
own resolvers here at start-up (``xinrong.enterprises.sso_links``): one for the USCC an
enterprise signs on with, one for the ID number a person signs on with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from xinrong.accounts.models import User

ClaimKind = Literal["uscc", "id_number"]


@dataclass
class SsoMatch:
    """What a claim found: existing logins, how to open one, or why nothing fits (Chinese)."""

    users: list[User] = field(default_factory=list)
    create: Callable[[], User] | None = None
    refusal: str = ""


Resolver = Callable[[str], SsoMatch]
_RESOLVERS: dict[str, Resolver] = {}


def sso_resolver_register(kind: ClaimKind, resolver: Resolver) -> None:
    """Register how a claim of ``kind`` is matched to logins."""
    _RESOLVERS[kind] = resolver


def sso_resolver(kind: ClaimKind) -> Resolver | None:
    """Return the resolver registered for ``kind``, if any."""
    return _RESOLVERS.get(kind)
