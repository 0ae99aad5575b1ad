"""Pages of disputes (异议)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.models import User
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, ConflictError, PermissionDeniedError
from xinrong.credit.choices import (
    DISPUTE_ANSWER_DAYS,
    OPEN_DISPUTE_STATUSES,
    DisputeKind,
    DisputeStatus,
)
from xinrong.credit.fact_display import readable_amounts
from xinrong.credit.forms import DisputeCorrectForm, DisputeForm, EvidenceForm, NoteForm, ReasonForm
from xinrong.credit.models import Dispute, DisputeEvidence
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.selectors import disputes as disputes_selectors
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.views.common import case_role, evidence_response, form_error_add
from xinrong.credit.workflows import DISPUTE
from xinrong.datahub.categories import CATEGORIES, CATEGORY_CHOICES, display_values


def _dispute_filters(role: str) -> list[listing.Filter]:
    """The filters of the disputes list (the enterprise has no name search or region)."""
    out: list[listing.Filter] = [
        listing.ChoiceFilter("status", _("状态"), DisputeStatus.choices),
        listing.ChoiceFilter("kind", _("异议类型"), DisputeKind.choices),
        listing.ChoiceFilter("category", _("信息类别"), CATEGORY_CHOICES),
        listing.DateRangeFilter("submitted", _("提交日期"), "submitted_at"),
        listing.BooleanFilter(
            "overdue",
            _("只看逾期"),
            lambda: Q(status__in=OPEN_DISPUTE_STATUSES, due_on__lt=timezone.localdate()),
        ),
    ]
    if role != "enterprise":
        out.insert(
            0,
            listing.SearchFilter(
                "q",
                _("关键词"),
                ["entity__name__icontains", "entity__uscc__iexact"],
                placeholder=_("企业名称或信用代码"),
            ),
        )
        out.insert(2, listing.RegionFilter("region", _("企业所在地区"), "entity__division_code"))
    return out


def _disputes(request: HttpRequest) -> tuple[Any, str]:
    user = request_user(request)
    qs = disputes_selectors.dispute_list(user=user, today=timezone.localdate())
    return qs, case_role(user)


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    """The enterprise's disputes, a department's inbox, or all disputes for the operator;
    filtered, paged and exportable."""
    user = request_user(request)
    qs, role = _disputes(request)
    today = timezone.localdate()
    lst = listing.list_build(
        request,
        qs,
        _dispute_filters(role),
        noun=_("异议"),
        export_url=reverse("credit:dispute_export"),
        per_page=30,
    )
    counts = disputes_selectors.dispute_counts(user=user, today=today)
    return render(
        request,
        "credit/dispute_list.html",
        {
            "listing": lst,
            "page": lst.page,
            "role": role,
            "status": lst.filterset.values.get("status", ""),
            "overdue": bool(lst.filterset.values.get("overdue")),
            "statuses": DisputeStatus.choices,
            "counts": counts,
            "today": today,
            "categories": {c: s.name for c, s in CATEGORIES.items()},
        },
    )


def _category_name(code: str) -> str:
    spec = CATEGORIES.get(code)
    return _(spec.name) if spec else code


DISPUTE_COLUMNS = [
    listing.Column(gettext_lazy("编号"), listing.attr("pk"), 10),
    listing.Column(gettext_lazy("企业"), listing.attr("entity.name"), 28),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("entity.uscc"), 20),
    listing.Column(gettext_lazy("信息类别"), lambda d: _category_name(d.category), 18),
    listing.Column(gettext_lazy("异议类型"), listing.display("kind")),
    listing.Column(gettext_lazy("数据来源"), listing.attr("source.name"), 18),
    listing.Column(gettext_lazy("报送部门"), listing.attr("source.organisation.name"), 20),
    listing.Column(gettext_lazy("异议说明"), listing.attr("claim"), 30),
    listing.Column(gettext_lazy("提交时间"), listing.attr("submitted_at"), 18),
    listing.Column(gettext_lazy("答复期限"), listing.attr("due_on"), 12),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(
        gettext_lazy("是否逾期"),
        lambda d: (
            str(_("是"))
            if d.status in OPEN_DISPUTE_STATUSES and d.due_on < timezone.localdate()
            else str(_("否"))
        ),
    ),
    listing.Column(gettext_lazy("督办时间"), listing.attr("escalated_at"), 18),
    listing.Column(gettext_lazy("办结时间"), listing.attr("resolved_at"), 18),
    listing.Column(gettext_lazy("处理意见"), listing.attr("resolution"), 30),
]


@login_required
def dispute_export(request: HttpRequest) -> HttpResponseBase:
    """The disputes list as Excel: the same disputes and filters as the list."""
    qs, role = _disputes(request)
    qs = listing.list_filter(request, qs, _dispute_filters(role)).apply(qs)
    return listing.xlsx_export(
        listing.query_rows(qs),
        DISPUTE_COLUMNS,
        title=_("异议"),
        filename=_("异议"),
        fallback="disputes",
    )


@login_required
def dispute_new(request: HttpRequest, fact_id: int) -> HttpResponse:
    """The enterprise files a dispute about one fact of its archive, with evidence."""
    user = request_user(request)
    fact = archive_selectors.own_fact_get(user=user, pk=fact_id)
    form = DisputeForm(request.POST or None, request.FILES or None, fact=fact)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = disputes_services.dispute_file(
                actor=user,
                fact=fact,
                kind=form.cleaned_data["kind"],
                claim=form.cleaned_data["claim"],
                proposed_values=form.proposed_values(),
                evidence=form.cleaned_data["evidence"],
            )
        except SERVICE_ERRORS as exc:
            form_error_add(form, exc)
        else:
            messages.success(
                request, _("异议已提交，%(d)s 前将收到答复") % {"d": dispute.due_on.isoformat()}
            )
            return redirect("credit:dispute_detail", pk=dispute.pk)
    return render(
        request,
        "credit/dispute_form.html",
        {
            "form": form,
            "fact": fact,
            "category": CATEGORIES[fact.category],
            "values": readable_amounts(fact.category, display_values(fact.category, fact.values())),
            "answer_days": DISPUTE_ANSWER_DAYS,
        },
    )


def _dispute_context(request: HttpRequest, dispute: Dispute, user: User) -> dict[str, Any]:
    spec = CATEGORIES.get(dispute.category)
    actions = {a.name for a in DISPUTE.available(user, dispute)}  # the buttons the kernel allows
    fields = spec.fields if spec else ()
    current = dispute.fact.values()
    events = list(disputes_selectors.dispute_events(dispute=dispute))
    by_key = {f.key: f for f in fields}
    for e in events:  # a correction's before and after, as the reader sees values
        changes = (e.data or {}).get("changes") or {}
        e.changes_shown = [  # type: ignore[attr-defined]
            (
                str(_(by_key[k].header)) if k in by_key else k,
                by_key[k].display(c.get("before", "")) if k in by_key else c.get("before", ""),
                by_key[k].display(c.get("after", "")) if k in by_key else c.get("after", ""),
            )
            for k, c in changes.items()
            if isinstance(c, dict)
        ]
    return {
        "dispute": dispute,
        "category": spec,
        "rows": [
            {
                "key": f.key,
                "header": f.header,
                "original": f.display(dispute.original_values.get(f.key, "")),
                "proposed": f.display(dispute.proposed_values.get(f.key, "")),
                "current": f.display(current.get(f.key, "")),
            }
            for f in fields
        ],
        "events": events,
        "labels": {f.key: _(f.header) for f in fields},
        "evidence": list(disputes_selectors.dispute_evidence(dispute=dispute)),
        "can_handle": {"correct", "uphold"} <= actions,
        "can_review": "review_start" in actions,
        "can_withdraw": "withdraw" in actions,
        "overdue": dispute.is_overdue(timezone.localdate()),
        "correct_form": DisputeCorrectForm(
            fact=dispute.fact, proposed=dispute.proposed_values, auto_id="correct_%s"
        ),
        "uphold_form": ReasonForm(auto_id="uphold_%s"),
        "note_form": NoteForm(auto_id="note_%s"),
        "evidence_form": EvidenceForm(auto_id="evidence_%s"),
    }


@login_required
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A dispute: the fact, the claim, evidence, the timeline and the actions the user may take."""
    user = request_user(request)
    dispute = disputes_selectors.dispute_get(user=user, pk=pk)
    return render(request, "credit/dispute_detail.html", _dispute_context(request, dispute, user))


@login_required
@require_POST
def dispute_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Run one transition of a dispute from its page; errors are shown on the page."""
    user = request_user(request)
    dispute = disputes_selectors.dispute_get(user=user, pk=pk)
    context = _dispute_context(request, dispute, user)
    form: forms.Form
    if action == "correct":
        form = DisputeCorrectForm(
            request.POST, fact=dispute.fact, proposed={}, auto_id="correct_%s"
        )
        context["correct_form"] = form
    elif action == "uphold":
        form = ReasonForm(request.POST, auto_id="uphold_%s")
        context["uphold_form"] = form
    elif action == "evidence":
        form = EvidenceForm(request.POST, request.FILES, auto_id="evidence_%s")
        context["evidence_form"] = form
    elif action in ("withdraw", "review"):
        form = NoteForm(request.POST, auto_id="note_%s")
        context["note_form"] = form
    else:
        raise Http404
    if form.is_valid():
        d = form.cleaned_data
        try:
            if action == "correct":
                assert isinstance(form, DisputeCorrectForm)
                disputes_services.dispute_resolve_correct(
                    dispute=dispute, actor=user, values=form.changes(), note=d["note"]
                )
                messages.success(request, _("已更正该信息，异议办结，企业已收到通知"))
            elif action == "uphold":
                disputes_services.dispute_resolve_uphold(
                    dispute=dispute, actor=user, reason=d["reason"]
                )
                messages.success(request, _("已维持原记录，异议办结，企业已收到通知"))
            elif action == "evidence":
                disputes_services.dispute_evidence_add(
                    dispute=dispute, actor=user, evidence=d["evidence"]
                )
                messages.success(request, _("证据已上传"))
            elif action == "withdraw":
                disputes_services.dispute_withdraw(dispute=dispute, actor=user, note=d["note"])
                messages.success(request, _("异议已撤回"))
            else:
                disputes_services.dispute_review_start(dispute=dispute, actor=user, note=d["note"])
                messages.success(request, _("已开始核查"))
        except PermissionDeniedError:
            raise  # the error page (403), not a form error
        except ConflictError as exc:  # e.g. answered meanwhile in another tab
            messages.error(request, exc.message)
        except SERVICE_ERRORS as exc:
            form_error_add(form, exc)
            return render(request, "credit/dispute_detail.html", context, status=422)
        return redirect("credit:dispute_detail", pk=dispute.pk)
    return render(request, "credit/dispute_detail.html", context, status=422)


@login_required
def dispute_evidence_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Download an evidence file of a dispute the user may see."""
    user = request_user(request)
    dispute = disputes_selectors.dispute_get(user=user, pk=pk)
    row = get_object_or_404(DisputeEvidence, pk=file_id, dispute=dispute)
    return evidence_response(row)
