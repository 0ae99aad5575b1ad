"""Bank integration API (一网通办): institutions' own systems pull applications, push events.

Every request is signed with the institution's API key (accounts.auth.SignedRequestAuth); every
write carries an ``Idempotency-Key`` and applies once however often it is sent
(accounts.services.api_requests.idempotent_run). A key sees only its institution's applications
and loans: another institution's are 404. Each write calls one service with ``via_api=True``, so the
timeline shows the step came from the institution's system. docs/bank-api.md is the guide.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema
from ninja.responses import Status

from xinrong.accounts import permissions
from xinrong.accounts.auth import SignedRequestAuth
from xinrong.accounts.models import ApiKey, User
from xinrong.accounts.schemas import SignedHeadersIn, SignedWriteHeadersIn
from xinrong.accounts.services.api_requests import idempotent_run
from xinrong.accounts.signing import HEADER_REPLAYED
from xinrong.common.errors import ApplicationError
from xinrong.credit import presenters as credit_presenters
from xinrong.credit.choices import Channel
from xinrong.credit.selectors.archive import archive_read
from xinrong.marketplace import presenters
from xinrong.marketplace.choices import ApplicationStatus
from xinrong.marketplace.models import Loan, LoanApplication
from xinrong.marketplace.schemas import (
    BankAcceptIn,
    BankApplicationListIn,
    BankApplicationOut,
    BankApplicationPageOut,
    BankApproveIn,
    BankContractIn,
    BankDefaultIn,
    BankDisburseIn,
    BankLoanHistoryIn,
    BankLoanHistoryOut,
    BankLoanOut,
    BankOverdueIn,
    BankRejectIn,
    BankRepaymentIn,
    BankRepaymentOut,
    BankReviewIn,
)
from xinrong.marketplace.selectors import applications as application_selectors
from xinrong.marketplace.selectors import loans as loan_selectors
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import loan_history
from xinrong.marketplace.services import loans as loan_services
from xinrong.reference.schema_types import error_responses

router = Router(tags=["bank"], auth=SignedRequestAuth())

_WRITE_DOC = (
    "须带签名请求头与 Idempotency-Key；同一幂等键、同一报文重发时不再执行，直接返回首次的"
    "结果（响应头 Idempotent-Replayed: true）；同一幂等键配不同报文返回 422 idempotency_mismatch。"
)


def _key(request: HttpRequest) -> ApiKey:
    return cast(ApiKey, getattr(request, "auth"))  # noqa: B009 (set by ninja's auth)


def _caller(request: HttpRequest) -> User:
    return _key(request).service_user


# ---------------------------------------------------------------- cursor


def _cursor(app: LoanApplication) -> str:
    raw = f"{app.updated_at.isoformat()}|{app.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _cursor_position(cursor: str) -> tuple[dt.datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        moment, pk = raw.rsplit("|", 1)
        position = dt.datetime.fromisoformat(moment), int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        position = None
    if position is None or position[0].tzinfo is None:
        raise ApplicationError(
            "invalid_cursor",
            _("cursor 无效：请传入上次返回的 next_cursor，或留空从头拉取"),
            {"field": "cursor"},
            status=422,
        )
    return position


# ---------------------------------------------------------------- reads


# The archive serves the application's purpose: deciding on it and following the loan. Once the
# application is rejected, withdrawn or settled that purpose is over, so it is neither read nor
# logged any more (``archive`` is null), whatever the consent's end date says.
ARCHIVE_STATUSES = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.ACCEPTED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.APPROVED,
        ApplicationStatus.CONTRACT_SIGNED,
        ApplicationStatus.DISBURSED,
        ApplicationStatus.REPAYING,
        ApplicationStatus.OVERDUE,
        ApplicationStatus.DEFAULTED,
    }
)


def _feed_lag() -> dt.timedelta:
    """Return how long a change waits before the feed serves it (XINRONG_API_FEED_LAG_SECONDS)."""
    return dt.timedelta(seconds=max(0, int(getattr(settings, "XINRONG_API_FEED_LAG_SECONDS", 30))))


def _application(
    user: User, app: LoanApplication, *, with_archive: bool, loan: Loan | None, events: Any
) -> dict[str, Any]:
    archive = None
    if with_archive and app.status in ARCHIVE_STATUSES:  # the read goes to the query log
        archive = credit_presenters.archive_out(
            archive_read(user=user, entity=app.entity, channel=Channel.API)
        )
    return presenters.bank_application_out(app, loan=loan, events=events, archive=archive)


def _prefetched_loan(app: LoanApplication) -> Loan | None:
    try:
        return app.loan
    except Loan.DoesNotExist:
        return None


@router.get(
    "/applications",
    response=BankApplicationPageOut,
    summary="拉取新增或更新的贷款申请（含授权信用档案）",
)
def application_feed(
    request: HttpRequest,
    params: Query[BankApplicationListIn],
    headers: Header[SignedHeadersIn],
) -> dict[str, Any]:
    """Return this institution's applications changed since ``cursor``, oldest change first.

    Pass the returned ``next_cursor`` on the next pull; ``has_more`` says whether to pull again
    at once. Each application carries what its enterprise authorised this institution to read
    while the application is live; every such read is written to the enterprise's query log.
    Changes are served once they are XINRONG_API_FEED_LAG_SECONDS old (default 30).
    """
    user = _caller(request)
    status = params.status.strip()
    if status and status not in ApplicationStatus.values:
        raise ApplicationError(
            "invalid_choice",
            _("状态“%(s)s”不存在，可选：%(c)s")
            % {"s": status, "c": "、".join(ApplicationStatus.values)},
            {"field": "status"},
            status=422,
        )
    rows = application_selectors.applications_changed(
        user=user,
        after=_cursor_position(params.cursor.strip()),
        status=status or None,
        limit=params.limit + 1,
        # A transaction may commit after a later one with an earlier updated_at; serving only
        # changes older than the lag keeps the cursor from jumping over it (docs/bank-api.md).
        changed_before=timezone.now() - _feed_lag(),
    )
    page = rows[: params.limit]
    return {
        "results": [
            _application(
                user,
                app,
                with_archive=params.archive,
                loan=_prefetched_loan(app),
                events=app.events.all(),
            )
            for app in page
        ],
        "next_cursor": _cursor(page[-1]) if page else params.cursor.strip(),
        "has_more": len(rows) > params.limit,
    }


@router.get(
    "/applications/{number}",
    response={200: BankApplicationOut, **error_responses(404)},
    summary="查询一笔贷款申请（含授权信用档案）",
)
def application_detail(
    request: HttpRequest, number: str, headers: Header[SignedHeadersIn]
) -> dict[str, Any]:
    """Return one of this institution's applications with its loan, timeline and archive."""
    user = _caller(request)
    app = application_selectors.application_by_number(user=user, number=number[:24])
    return _application(
        user,
        app,
        with_archive=True,
        loan=loan_selectors.loan_of(application=app),
        events=application_selectors.application_events(application=app),
    )


# ---------------------------------------------------------------- writes


def _write(
    request: HttpRequest,
    response: HttpResponse,
    headers: SignedWriteHeadersIn,
    out: type[Schema],
    run: Callable[[], dict[str, Any]],
    *,
    status: int = 200,
) -> Status[Any]:
    """Apply ``run`` once per idempotency key and answer with its (stored) JSON."""

    def apply() -> tuple[int, Any]:
        return status, out.model_validate(run()).model_dump(mode="json")

    result = idempotent_run(
        key=_key(request),
        idempotency_key=headers.idempotency_key,
        method=request.method or "POST",
        path=request.get_full_path(),
        body=request.body,
        run=apply,
    )
    if result.replayed:
        response.headers[HEADER_REPLAYED] = "true"
    return Status(result.status, result.body)


def _after(app: LoanApplication) -> dict[str, Any]:
    return presenters.bank_application_out(
        app,
        loan=loan_selectors.loan_of(application=app),
        events=application_selectors.application_events(application=app),
    )


def _app_write(
    request: HttpRequest,
    response: HttpResponse,
    headers: SignedWriteHeadersIn,
    number: str,
    step: Callable[[LoanApplication, User], Any],
    *,
    status: int = 200,
) -> Status[Any]:
    """Look the application up in the caller's scope, take one step, return it afterwards."""

    def run() -> dict[str, Any]:
        user = _caller(request)
        app = application_selectors.application_by_number(user=user, number=number[:24])
        step(app, user)
        return _after(LoanApplication.objects.get(pk=app.pk))

    return _write(request, response, headers, BankApplicationOut, run, status=status)


_APP_RESPONSES = {200: BankApplicationOut, **error_responses(404, 409)}


@router.post(
    "/applications/{number}/accept",
    response=_APP_RESPONSES,
    summary="受理贷款申请",
    description=_WRITE_DOC,
)
def application_accept(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: BankAcceptIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Accept a submitted application (受理)."""
    return _app_write(
        request,
        response,
        headers,
        number,
        lambda app, user: application_services.application_accept(
            application=app, actor=user, note=payload.note, via_api=True
        ),
    )


@router.post(
    "/applications/{number}/review",
    response=_APP_RESPONSES,
    summary="提交审批（进入审批）",
    description=_WRITE_DOC,
)
def application_review(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: BankReviewIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Hand an accepted application to the reviewers."""
    return _app_write(
        request,
        response,
        headers,
        number,
        lambda app, user: application_services.application_review_start(
            application=app, actor=user, note=payload.note, via_api=True
        ),
    )


@router.post(
    "/applications/{number}/approve",
    response=_APP_RESPONSES,
    summary="推送审批结果：批准（金额、利率、期限）",
    description=_WRITE_DOC,
)
def application_approve(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: BankApproveIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Approve with the granted amount, rate and term (within the product's ranges)."""
    return _app_write(
        request,
        response,
        headers,
        number,
        lambda app, user: application_services.application_approve(
            application=app,
            actor=user,
            amount=payload.amount,
            rate=payload.rate,
            term_months=payload.term_months,
            note=payload.note,
            via_api=True,
        ),
    )


@router.post(
    "/applications/{number}/reject",
    response=_APP_RESPONSES,
    summary="推送审批结果：拒绝（原因与说明）",
    description=_WRITE_DOC,
)
def application_reject(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: BankRejectIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Decline with a reason code and an explanation the enterprise reads."""
    return _app_write(
        request,
        response,
        headers,
        number,
        lambda app, user: application_services.application_reject(
            application=app, actor=user, reason=payload.reason, note=payload.note, via_api=True
        ),
    )


@router.post(
    "/applications/{number}/contract",
    response=_APP_RESPONSES,
    summary="推送合同签订",
    description=_WRITE_DOC,
)
def application_contract(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: BankContractIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Record the signed loan contract."""
    return _app_write(
        request,
        response,
        headers,
        number,
        lambda app, user: application_services.application_sign(
            application=app,
            actor=user,
            contract_no=payload.contract_no,
            signed_on=payload.signed_on,
            via_api=True,
        ),
    )


@router.post(
    "/applications/{number}/disburse",
    response={201: BankApplicationOut, **error_responses(404, 409)},
    summary="推送放款（生成贷款与还款计划）",
    description=_WRITE_DOC,
)
def application_disburse(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: BankDisburseIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Disburse the loan; the answer carries the loan with its number."""
    return _app_write(
        request,
        response,
        headers,
        number,
        lambda app, user: loan_services.application_disburse(
            application=app,
            actor=user,
            amount=payload.amount,
            disbursed_on=payload.disbursed_on,
            loan_no=payload.loan_no,
            via_api=True,
        ),
        status=201,
    )


def _loan_write(
    request: HttpRequest,
    response: HttpResponse,
    headers: SignedWriteHeadersIn,
    loan_no: str,
    out: type[Schema],
    step: Callable[[Loan, User], dict[str, Any]],
    *,
    status: int = 200,
) -> Status[Any]:
    def run() -> dict[str, Any]:
        user = _caller(request)
        return step(loan_selectors.loan_by_number(user=user, number=loan_no[:64]), user)

    return _write(request, response, headers, out, run, status=status)


def _loan_after(loan: Loan) -> dict[str, Any]:
    return presenters.bank_loan_out(Loan.objects.get(pk=loan.pk))


@router.post(
    "/loans/{loan_no}/repayments",
    response={201: BankRepaymentOut, **error_responses(404, 409)},
    summary="推送还款",
    description=_WRITE_DOC,
)
def loan_repayment(
    request: HttpRequest,
    response: HttpResponse,
    loan_no: str,
    payload: BankRepaymentIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Record a repayment; the loan settles when nothing is left owed."""

    def step(loan: Loan, user: User) -> dict[str, Any]:
        repayment = loan_services.loan_repayment_record(
            loan=loan, actor=user, amount=payload.amount, paid_on=payload.paid_on, via_api=True
        )
        return {
            "id": repayment.pk,
            "amount": repayment.amount,
            "principal": repayment.principal,
            "interest": repayment.interest,
            "paid_on": repayment.paid_on,
            "loan": _loan_after(loan),
        }

    return _loan_write(request, response, headers, loan_no, BankRepaymentOut, step, status=201)


@router.post(
    "/loans/{loan_no}/overdue",
    response={200: BankLoanOut, **error_responses(404, 409)},
    summary="推送逾期",
    description=_WRITE_DOC,
)
def loan_overdue(
    request: HttpRequest,
    response: HttpResponse,
    loan_no: str,
    payload: BankOverdueIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Mark a loan overdue because an instalment due before ``as_of`` is unpaid."""
    return _loan_write(
        request,
        response,
        headers,
        loan_no,
        BankLoanOut,
        lambda loan, user: _loan_after(
            loan_services.loan_overdue_mark(
                loan=loan, actor=user, as_of=payload.as_of, via_api=True
            )
        ),
    )


@router.post(
    "/loans/{loan_no}/default",
    response={200: BankLoanOut, **error_responses(404, 409)},
    summary="推送违约认定",
    description=_WRITE_DOC,
)
def loan_default(
    request: HttpRequest,
    response: HttpResponse,
    loan_no: str,
    payload: BankDefaultIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Declare an overdue loan in default with a written reason."""
    return _loan_write(
        request,
        response,
        headers,
        loan_no,
        BankLoanOut,
        lambda loan, user: _loan_after(
            loan_services.loan_default_declare(
                loan=loan, actor=user, note=payload.note, on=payload.on, via_api=True
            )
        ),
    )


@router.post(
    "/loan-history",
    response={200: BankLoanHistoryOut},
    summary="批量导入历史贷款（存量贷款，含还款与逾期记录）",
    description=_WRITE_DOC
    + "每次最多 1000 笔；全部校验通过才导入，任何一笔有错则整批不导入并一次返回所有错误"
    "（422 invalid_loan_history，extra.errors 逐条列出 loans[i].字段 与规则）。同一借据号、"
    "同一内容再次导入时报告为 present，不重复导入；同一借据号、不同内容为冲突错误。",
)
def loan_history_import(
    request: HttpRequest,
    response: HttpResponse,
    payload: BankLoanHistoryIn,
    headers: Header[SignedWriteHeadersIn],
) -> Status[Any]:
    """Import the institution's existing loans with their repayments and overdue records."""

    def run() -> dict[str, Any]:
        user = _caller(request)
        permissions.require(user, "marketplace.loan_history_import")
        assert user.organisation is not None  # a lender's key (the permission says so)
        return loan_history.loan_history_import(
            institution=user.organisation, actor=user, loans=payload.loans, via_api=True
        )

    return _write(request, response, headers, BankLoanHistoryOut, run)
