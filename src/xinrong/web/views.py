"""Role home pages with real figures from the database."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required, login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinrong.accounts import selectors as account_selectors
from xinrong.accounts.choices import INSTITUTION_KINDS, OrgGroup, OrgKind
from xinrong.accounts.models import User
from xinrong.accounts.permissions import region_prefix_for
from xinrong.enterprises import presenters
from xinrong.enterprises import selectors as entity_selectors
from xinrong.enterprises.choices import EntityType
from xinrong.reference import divisions, industries
from xinrong.reference.choices import SizeClass

DASHBOARD_CACHE_SECONDS = 60


def _division_name(code: str) -> str:
    division = divisions.get(code)
    return division.name if division else code


def _registry_figures(user: User) -> dict[str, Any]:
    """Counts and breakdowns of the registry visible to ``user`` (cached briefly)."""
    prefix = region_prefix_for(user) or "all"
    key = f"dashboard:registry:{user.group}:{prefix}:{get_language()}"
    figures = cache.get(key)
    if figures is None:
        counts = entity_selectors.market_entity_counts(user=user)
        by_prefecture = [
            {
                "code": code,
                "name": _division_name(code),
                "count": n,
            }
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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the home dashboard of the user's side of the platform."""
    user = request.user
    assert isinstance(user, User)
    group = user.group
    context: dict[str, Any] = {"group": group}
    if group == OrgGroup.ENTERPRISE:
        entity = getattr(user.organisation, "market_entity", None)
        context["entity"] = presenters.entity_row(entity) if entity else None
        context["members"] = (
            user.organisation.users.filter(is_active=True).count() if user.organisation else 0
        )
        template = "web/home_enterprise.html"
    elif group == OrgGroup.INSTITUTION:
        context["registry"] = _registry_figures(user)
        org = user.organisation
        context["members"] = (
            org.users.filter(is_active=True, api_key__isnull=True).count() if org else 0
        )
        context["active_keys"] = org.api_keys.filter(revoked_at__isnull=True).count() if org else 0
        template = "web/home_institution.html"
    elif group == OrgGroup.GOVERNMENT:
        context["registry"] = _registry_figures(user)
        region = user.organisation.region_code if user.organisation else ""
        context["region_name"] = divisions.full_name(region) if region else ""
        template = "web/home_government.html"
    else:
        context["registry"] = _registry_figures(user)
        counts = account_selectors.organisation_counts(user=user)
        context["org_counts"] = {
            "institutions": sum(counts.get(k, 0) for k in INSTITUTION_KINDS),
            "banks": counts.get(OrgKind.BANK, 0),
            "government": counts.get(OrgKind.GOVERNMENT, 0),
            "registered_enterprises": counts.get(OrgKind.ENTERPRISE, 0)
            + counts.get(OrgKind.INDIVIDUAL_BUSINESS, 0),
            "users": counts.get("users", 0),
        }
        region = user.organisation.region_code if user.organisation else ""
        context["region_name"] = divisions.full_name(region) if region else ""
        template = "web/home_operator.html"
    return render(request, template, context)


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """Report that the server and its database answer (for load balancers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
