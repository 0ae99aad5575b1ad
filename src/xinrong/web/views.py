"""Role home pages (workbenches) and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from xinrong.accounts.models import User
from xinrong.web.health import health_report
from xinrong.web.workbench import workbench_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the user's workbench: its work, its figures and what to do next."""
    user = request.user
    assert isinstance(user, User)
    template, context = workbench_for(user)
    context["group"] = user.group
    return render(request, template, context)


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """Check the database, the task queue and the cache: 200 when all pass, else 503 naming them.

    ``{"status": "ok", "checks": {...}}`` (load balancers may keep looking at ``status`` only).
    """
    healthy, body = health_report()
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
