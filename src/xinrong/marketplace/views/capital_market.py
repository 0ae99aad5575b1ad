"""Pages of the 上市挂牌后备库 (capital-market reserve) and direct-financing cases."""

from __future__ import annotations

from typing import NoReturn

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.common.errors import (
    SERVICE_ERRORS,
    NotFoundError,
    PermissionDeniedError,
    error_payload,
)
from xinrong.common.forms import add_service_error
from xinrong.common.ids import ids_parse
from xinrong.common.pagination import paginate
from xinrong.enterprises.selectors import market_entity_visible
from xinrong.marketplace.choices import InterestStatus, ReserveStatus
from xinrong.marketplace.forms import (
    FinancingCaseForm,
    InterestForm,
    ReserveCloseForm,
    ReserveCriteriaForm,
    ReserveIntroForm,
)
from xinrong.marketplace.selectors import capital_market as capital_market_selectors
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.services import capital_market as capital_market_services
from xinrong.reference import divisions, industries

# ---------------------------------------------------------------- 上市挂牌后备库


def _reserve_forbidden() -> NoReturn:
    raise PermissionDeniedError(
        "forbidden",
        _("上市挂牌后备库仅对平台运营方、投资机构、入库企业和运营方开放的金融机构开放"),
    )


@login_required
def capital_market(request: HttpRequest) -> HttpResponse:
    """The reserve database: all entries (operator), active ones to browse (investors), or the
    enterprise's own entry with the interests in it."""
    user = request_user(request)
    side = capital_market_selectors.reserve_side(user)
    if not side:
        _reserve_forbidden()
    if side == "enterprise":
        entry = capital_market_selectors.reserve_own(user=user)
        return render(
            request,
            "marketplace/reserve_own.html",
            {
                "entry": entry,
                "interests": capital_market_selectors.reserve_interests(user=user, candidate=entry)
                if entry
                else [],
                "events": capital_market_selectors.reserve_events(user=user, candidate=entry)
                if entry
                else [],
                "intro_form": ReserveIntroForm(initial={"intro": entry.intro}) if entry else None,
            },
        )
    status = request.GET.get("status", "")
    if status not in ReserveStatus.values:
        status = ""
    page = paginate(request, capital_market_selectors.reserve_visible(user=user, status=status))
    names = {  # industry and region names, not codes
        c.pk: (
            getattr(industries.get(c.entity.industry_code or ""), "name", ""),
            divisions.full_name(c.entity.division_code or ""),
        )
        for c in page.object_list
    }
    return render(
        request,
        "marketplace/reserve_list.html",
        {
            "page": page,
            "names": names,
            "side": side,
            "status": status,
            "statuses": ReserveStatus.choices,
            "my_interests": capital_market_selectors.investor_interests(user=user)[:20]
            if side == "investor"
            else [],
        },
    )


@login_required
def reserve_screen(request: HttpRequest) -> HttpResponse:
    """The operator screens entities by criteria and adds the chosen ones to the reserve."""
    user = request_user(request)
    if not common_selectors.sees_grades(user):
        raise PermissionDeniedError("forbidden", _("只有平台运营方可以筛选上市挂牌后备企业"))
    data = request.POST if request.method == "POST" else request.GET
    form = ReserveCriteriaForm(data or None, initial={"min_grade": "A"})
    error, total = "", 0
    rows: list[capital_market_selectors.ScreenRow] = []
    try:
        criteria = capital_market_selectors.reserve_criteria_parse(
            data if data else {"min_grade": "A"}
        )
    except SERVICE_ERRORS as exc:
        error = error_payload(exc)[1]["message"]
        criteria = None
    if request.method == "POST" and criteria is not None:
        added = 0
        try:
            ids = ids_parse(request.POST.getlist("entities"), field="entities", label=_("企业编号"))
            for entity in market_entity_visible(user=user).filter(pk__in=ids):
                capital_market_services.reserve_add(
                    actor=user,
                    entity=entity,
                    criteria=criteria.as_dict(),
                    note=request.POST.get("note", ""),
                )
                added += 1
        except SERVICE_ERRORS as exc:
            messages.error(request, error_payload(exc)[1]["message"])
        if added:
            messages.success(request, _("已将 %(n)s 家企业纳入后备库") % {"n": added})
        return redirect(f"{request.path}?{request.POST.get('querystring', '')}")
    if criteria is not None:
        rows, total = capital_market_selectors.reserve_screen(user=user, criteria=criteria)
    return render(
        request,
        "marketplace/reserve_screen.html",
        {
            "form": form,
            "error": error,
            "rows": rows,
            "total": total,
            "querystring": request.GET.urlencode(),
            "can_add": permissions.can(user, "marketplace.reserve_manage"),
        },
    )


@login_required
def reserve_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One reserve entry: registry information and the enterprise's introduction; investors may
    express interest; the operator also sees the criteria snapshot and the timeline."""
    user = request_user(request)
    side = capital_market_selectors.reserve_side(user)
    if not side:
        _reserve_forbidden()
    entry = capital_market_selectors.reserve_get(user=user, pk=pk)
    return render(
        request,
        "marketplace/reserve_detail.html",
        {
            "entry": entry,
            "entity": entry.entity,
            "side": side,
            "industry": industries.get(entry.entity.industry_code),
            "region": divisions.full_name(entry.entity.division_code),
            "criteria_sentences": capital_market_selectors.criteria_sentences(
                (entry.criteria or {}).get("criteria") or {}
            ),
            "interests": capital_market_selectors.reserve_interests(user=user, candidate=entry),
            "events": capital_market_selectors.reserve_events(user=user, candidate=entry),
            "interest_form": InterestForm()
            if side == "investor"
            and not entry.interests.filter(
                investor_id=user.organisation_id, status=InterestStatus.PENDING
            ).exists()
            else None,
            "interest_pending": side == "investor"
            and entry.interests.filter(
                investor_id=user.organisation_id, status=InterestStatus.PENDING
            ).exists(),
            "close_form": ReserveCloseForm()
            if side == "operator"
            and entry.status == ReserveStatus.ACTIVE
            and permissions.can(user, "marketplace.reserve_manage")
            else None,
        },
    )


@login_required
@require_POST
def reserve_close(request: HttpRequest, pk: int) -> HttpResponse:
    """The operator records that a reserve enterprise was listed, or removes it."""
    user = request_user(request)
    try:
        entry = capital_market_selectors.reserve_get(user=user, pk=pk)
        form = ReserveCloseForm(request.POST)
        data = form.cleaned_data if form.is_valid() else {}
        capital_market_services.reserve_close(
            actor=user,
            candidate=entry,
            status=str(data.get("status") or request.POST.get("status") or ""),
            note=str(data.get("note") or ""),
        )
    except SERVICE_ERRORS as exc:
        if isinstance(exc, NotFoundError | PermissionDeniedError):
            raise
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("后备库状态已变更"))
    return redirect("marketplace:reserve_detail", pk=pk)


@login_required
@require_POST
def reserve_interest(request: HttpRequest, pk: int) -> HttpResponse:
    """An investor expresses interest in a reserve enterprise."""
    user = request_user(request)
    try:
        entry = capital_market_selectors.reserve_get(user=user, pk=pk)
        form = InterestForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        capital_market_services.interest_express(actor=user, candidate=entry, note=note)
    except SERVICE_ERRORS as exc:
        if isinstance(exc, NotFoundError | PermissionDeniedError):
            raise
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("已表达投资意向，等待企业回复"))
    return redirect("marketplace:reserve_detail", pk=pk)


@login_required
@require_POST
def reserve_intro(request: HttpRequest) -> HttpResponse:
    """The enterprise updates what investors see about it."""
    user = request_user(request)
    entry = capital_market_selectors.reserve_own(user=user)
    if entry is None:
        raise NotFoundError("not_found", _("贵企业尚未纳入上市挂牌后备库"))
    form = ReserveIntroForm(request.POST)
    try:
        capital_market_services.reserve_intro_update(
            actor=user, candidate=entry, intro=form.data.get("intro", "")
        )
    except SERVICE_ERRORS as exc:
        if isinstance(exc, PermissionDeniedError):
            raise
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("展示信息已更新"))
    return redirect("marketplace:capital_market")


@login_required
@require_POST
def interest_respond(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The enterprise accepts or declines an investor's interest."""
    user = request_user(request)
    entry = capital_market_selectors.reserve_own(user=user)
    interest = (
        capital_market_selectors.reserve_interests(user=user, candidate=entry).filter(pk=pk).first()
        if entry is not None
        else None
    )
    if interest is None or action not in ("accept", "decline"):
        raise NotFoundError("not_found", _("投资意向不存在"))
    try:
        capital_market_services.interest_respond(
            actor=user,
            interest=interest,
            accept=action == "accept",
            note=request.POST.get("note", ""),
        )
    except SERVICE_ERRORS as exc:
        if isinstance(exc, PermissionDeniedError):
            raise
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(
            request, _("已接受投资意向") if action == "accept" else _("已婉拒投资意向")
        )
    return redirect("marketplace:capital_market")


@login_required
def financing_cases(request: HttpRequest) -> HttpResponse:
    """Direct-financing cases (everyone); the operator records new ones on the same page."""
    user = request_user(request)
    can_record = permissions.can(user, "marketplace.reserve_manage")
    investors = capital_market_selectors.investor_organisations()
    form = FinancingCaseForm(request.POST or None, investors=investors)
    if request.method == "POST":
        if not can_record:
            raise PermissionDeniedError("forbidden", _("只有平台运营管理员可以登记直接融资案例"))
        if form.is_valid():
            data = dict(form.cleaned_data)
            uscc = data.pop("entity_uscc", "")
            try:
                data["entity"] = (
                    market_entity_visible(user=user).filter(uscc=uscc.strip().upper()).first()
                    if uscc
                    else None
                )
                if uscc and data["entity"] is None:
                    raise ValidationError(
                        {
                            "entity_uscc": _("未找到统一社会信用代码为 %(c)s 的市场主体")
                            % {"c": uscc}
                        }
                    )
                capital_market_services.financing_case_record(actor=user, data=data)
            except SERVICE_ERRORS as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("直接融资案例已登记"))
                return redirect("marketplace:financing_cases")
    return render(
        request,
        "marketplace/financing_cases.html",
        {
            "page": paginate(request, capital_market_selectors.financing_cases()),
            "form": form if can_record else None,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def capital_market_access(request: HttpRequest, org_id: int) -> HttpResponse:
    """The operator opens or closes the reserve to a bank or microloan company (its page)."""
    from xinrong.accounts.models import Organisation

    user = request_user(request)
    org = Organisation.objects.restrict(user).filter(pk=org_id).first()
    if org is None:
        raise NotFoundError("not_found", _("机构不存在"))
    allowed = request.POST.get("allowed") == "1"
    capital_market_services.capital_market_access_set(actor=user, organisation=org, allowed=allowed)
    messages.success(
        request,
        _("已向%(o)s开放上市挂牌后备库") % {"o": org.name}
        if allowed
        else _("已关闭%(o)s的上市挂牌后备库权限") % {"o": org.name},
    )
    return redirect("accounts:organisation_detail", pk=org.pk)
