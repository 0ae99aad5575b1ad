"""Pages of credit reports: generate, download and verify."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xinrong.accounts.auth import request_user
from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.common.forms import add_service_error
from xinrong.common.http import attachment_response, error_page
from xinrong.credit.choices import Channel
from xinrong.credit.forms import REPORT_UPLOAD_MAX_BYTES, ReportGenerateForm, ReportVerifyForm
from xinrong.credit.reports.numbers import normalise_number
from xinrong.credit.selectors import reports as reports_selectors
from xinrong.credit.services import reports as reports_services
from xinrong.enterprises import selectors as entity_selectors


@login_required
def report_new(request: HttpRequest, uscc: str) -> HttpResponse:
    """Confirm (GET) and generate (POST) a credit report, then send the PDF."""
    user = request_user(request)
    try:
        entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
        own, auth = reports_selectors.report_access(user=user, entity=entity)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    form = ReportGenerateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            report = reports_services.report_generate(
                user=user,
                entity=entity,
                channel=Channel.PAGE,
                purpose=form.cleaned_data["purpose"],
                verify_base=request.build_absolute_uri("/"),
            )
        except SERVICE_ERRORS as exc:
            status, _body = error_payload(exc)
            if status != 422:
                return error_page(request, exc)
            add_service_error(form, exc)
        else:
            return redirect("credit:report_download", number=report.number)
    return render(
        request,
        "credit/report_new.html",
        {
            "entity": entity,
            "own": own,
            "authorisation": auth,
            "form": form,
            "reports": list(reports_selectors.report_list(user=user, entity=entity)[:10]),
            "daily_limit": getattr(settings, "XINRONG_REPORT_DAILY_LIMIT", 20),
        },
        status=422 if form.errors else 200,
    )


def report_download(request: HttpRequest, number: str) -> HttpResponse:
    """Send a stored report to its generating organisation (after checking its SM3 digest)."""
    user = request_user(request)
    try:
        report = reports_selectors.report_get(user=user, number=number)
        data = reports_selectors.report_file_read(report=report)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return attachment_response(
        data,
        filename=_("企业信用报告-%(name)s-%(n)s.pdf")
        % {"name": report.entity.name, "n": report.number},
        fallback=f"credit-report-{report.number}.pdf",
        content_type="application/pdf",
    )


@login_not_required
def report_verify_lookup(request: HttpRequest) -> HttpResponse:
    """The public verification entry: type a report number (no login)."""
    number = request.GET.get("number", "").strip()
    error = ""
    if number:
        try:
            return redirect("report_verify", number=normalise_number(number))
        except SERVICE_ERRORS as exc:
            error = error_payload(exc)[1]["message"]
    return render(
        request,
        "credit/report_verify.html",
        {"number": number, "error": error, "result": None},
        status=404 if error else 200,
    )


@login_not_required
def report_verify(request: HttpRequest, number: str) -> HttpResponse:
    """Public verification of a report by number: an uploaded copy or a pasted SM3 digest."""
    try:
        result = reports_selectors.report_verify(number=number)
    except SERVICE_ERRORS as exc:
        status, body = error_payload(exc)
        return render(
            request,
            "credit/report_verify.html",
            {"number": number, "error": body["message"], "result": None},
            status=status,
        )
    status = 200
    form_error = ""
    if request.method == "POST":
        # Refuse an oversized upload before Django reads it.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > REPORT_UPLOAD_MAX_BYTES + 64 * 1024:
            form = ReportVerifyForm()
            form_error = _("文件不能超过 20 MB")
            status = 413
        else:
            form = ReportVerifyForm(request.POST, request.FILES)
            if form.is_valid():
                document = form.cleaned_data["document"]
                result = reports_selectors.report_verify(
                    number=result.number,
                    digest=form.cleaned_data["digest"] or None,
                    document=document.read() if document is not None else None,
                )
            else:
                status = 422
    else:
        form = ReportVerifyForm()
    return render(
        request,
        "credit/report_verify.html",
        {
            "number": result.number,
            "result": result,
            "form": form,
            "form_error": form_error,
            "error": "",
        },
        status=status,
    )
