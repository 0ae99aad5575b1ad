"""Pages of the service columns (专栏): 首贷中心, 续贷中心, 小额贷款公司, 地方特色产品.

Selectors apply visibility and raise PermissionDeniedError with the reason; these views only pick
the page for the user's side."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.auth import request_user
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError, error_payload
from xinrong.common.pagination import paginate
from xinrong.marketplace.choices import RENEWAL_HORIZON_DAYS
from xinrong.marketplace.selectors import centres as centre_selectors
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.views.common import _verdicts
from xinrong.reference import divisions


@login_required
def first_loan_centre(request: HttpRequest) -> HttpResponse:
    """首贷中心: products for a first loan (enterprise), or entities without loans (lenders and
    the operator)."""
    user = request_user(request)
    offer = centre_selectors.first_loan_offer(user=user)
    if offer is not None:
        return render(request, "marketplace/first_loan.html", {"offer": offer})
    error, page = "", None
    try:
        filters = centre_selectors.first_loan_filter_parse(request.GET)
        page = paginate(request, centre_selectors.first_loan_entities(user=user, filters=filters))
    except PermissionDeniedError:
        raise  # the error page (403); a bad filter is shown above the list
    except SERVICE_ERRORS as exc:
        error = error_payload(exc)[1]["message"]
    region = request.GET.get("region", "")
    return render(
        request,
        "marketplace/first_loan_entities.html",
        {
            "page": page,
            "error": error,
            "params": request.GET,
            "show_grade": common_selectors.sees_grades(user),
            "grades": common_selectors.GRADE_NAMES,
            "region_name": divisions.full_name(region) if region and not error else "",
        },
    )


@login_required
def renewal_centre(request: HttpRequest) -> HttpResponse:
    """续贷中心: loans maturing within 90 days, with renewal products (enterprise) or as a list
    to offer renewal to (institution, operator)."""
    user = request_user(request)
    today = timezone.localdate()
    entity = common_selectors.user_entity(user=user)
    if entity is None and not (
        common_selectors.is_lender_side(user) or common_selectors.sees_grades(user)
    ):
        raise PermissionDeniedError("forbidden", _("续贷中心仅对企业、放贷机构和平台运营方开放"))
    page = paginate(request, centre_selectors.renewal_due_loans(user=user, today=today))
    loans = list(page.object_list)
    for loan in loans:
        loan.days_left = (loan.maturity_on - today).days  # type: ignore[attr-defined]
    options = (
        centre_selectors.renewal_options(entity=entity, loans=loans) if entity is not None else {}
    )
    return render(
        request,
        "marketplace/renewal.html",
        {
            "page": page,
            "rows": [(loan, options.get(loan.pk, [])) for loan in loans],
            "is_enterprise": entity is not None,
            "horizon": RENEWAL_HORIZON_DAYS,
        },
    )


@login_required
def microloan_column(request: HttpRequest) -> HttpResponse:
    """小额贷款公司: their published products and the companies."""
    page = paginate(request, centre_selectors.microloan_products())
    rows = list(page.object_list)
    verdicts = _verdicts(request, rows)
    return render(
        request,
        "marketplace/microloan.html",
        {
            "page": page,
            "rows": [(p, verdicts.get(p.pk)) for p in rows],
            "companies": list(centre_selectors.microloan_companies()),
            "is_enterprise": common_selectors.user_entity(user=request_user(request)) is not None,
        },
    )


@login_required
def local_specials(request: HttpRequest) -> HttpResponse:
    """地方特色产品: published products tagged with a local trade, grouped by tag."""
    groups = centre_selectors.local_specials()
    products = list({p.pk: p for _tag, ps in groups for p in ps}.values())
    verdicts = _verdicts(request, products)
    return render(
        request,
        "marketplace/specials.html",
        {
            "groups": [(tag, [(p, verdicts.get(p.pk)) for p in ps]) for tag, ps in groups],
            "is_enterprise": common_selectors.user_entity(user=request_user(request)) is not None,
        },
    )
