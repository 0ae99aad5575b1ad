"""Role home pages (workbenches) and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from xinrong.accounts.models import User
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
    """Report that the server and its database answer (for load balancers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
