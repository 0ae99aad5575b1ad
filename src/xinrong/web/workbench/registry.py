"""The registry's counts and breakdowns a workbench shows lower on the page (cached briefly)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import region_prefix_for
from xinrong.enterprises import selectors as entity_selectors
from xinrong.enterprises.choices import EntityType
from xinrong.reference import divisions, industries
from xinrong.reference.choices import SizeClass

DASHBOARD_CACHE_SECONDS = 60


def _division_name(code: str) -> str:
    division = divisions.get(code)
    return division.name if division else code


def registry_figures(user: User) -> dict[str, Any]:
    """Counts and breakdowns of the registry visible to ``user`` (cached briefly)."""
    prefix = region_prefix_for(user) or "all"
    key = f"dashboard:registry:{user.group}:{prefix}:{get_language()}"
    figures = cache.get(key)
    if figures is None:
        counts = entity_selectors.market_entity_counts(user=user)
        by_prefecture = [
            {"code": code, "name": _division_name(code), "count": n}
            for code, n in entity_selectors.market_entity_breakdown(user=user, by="prefecture")
        ]
        by_size = [
            {
                "key": k,
                "name": str(SizeClass(k).label) if k in SizeClass.values else _("未划型"),
                "count": n,
            }
            for k, n in entity_selectors.market_entity_breakdown(user=user, by="size_class")
        ]
        by_section = []
        for k, n in entity_selectors.market_entity_breakdown(user=user, by="industry_section"):
            item = industries.get(k)
            by_section.append({"key": k, "name": item.display_name if item else k, "count": n})
        figures = {
            "total": counts.get("total", 0),
            "enterprises": counts.get(EntityType.ENTERPRISE, 0),
            "individual_businesses": counts.get(EntityType.INDIVIDUAL_BUSINESS, 0),
            "by_prefecture": by_prefecture,
            "by_size": by_size,
            "by_section": by_section[:10],
        }
        cache.set(key, figures, DASHBOARD_CACHE_SECONDS)
    return dict(figures)
