"""Writes of loan applications: submit, the institution's decisions, withdrawal, referral, SLAs.

Each action of the application workflow (``marketplace.workflows.APPLICATION``) is one service.
Every one moves the application through ``transition_apply``: it locks the row, asks the
permission layer, refuses a wrong status, writes the new status and an ApplicationEvent (the
timeline) and queues the declared notices for after the commit."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from xinrong.common.templatetags.money import amount_text, money_range
from xinrong.credit.choices import Purpose, Scope
from xinrong.credit.selectors.lists import veto_reason
from xinrong.credit.services.archive import (
    authorisation_end,
    authorisation_grant,
    authorisation_revoke,
)
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    PENDING_STATUSES,
    RENEWAL_HORIZON_DAYS,
    ApplicationEventKind,
    ApplicationStatus,
    LoanStatus,
    ProductStatus,
    RejectReason,
    RepaymentMethod,
)
from xinrong.marketplace.eligibility import entity_facts, evaluate
from xinrong.marketplace.models import (
    Demand,
    Loan,
    LoanApplication,
    Product,
    ProductVersion,
)
from xinrong.marketplace.services.common import (
    APPLICATION_PREFIX,
    _app_locked,
    _apply,
    _deadline,
    _decimal,
    _ensure_entity_user,
    _int,
)
from xinrong.marketplace.transitions import institution_staff
from xinrong.marketplace.workflows import APPLICATION
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.kernel import event_record, transition_apply

DEFAULT_CONSENT_DAYS = 180
REFER_LIMIT = 5


def _application_number() -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    while True:
        number = f"{APPLICATION_PREFIX}{today}{secrets.token_hex(4).upper()}"
        if not LoanApplication.objects.filter(number=number).exists():
            return number


def application_clean(
    *, version: ProductVersion, data: dict[str, Any]
) -> tuple[Decimal, int, str, str]:
    """Return amount, term, repayment method and purpose checked against the product's terms."""
    amount = _decimal(data, "amount", _("申请金额"))
    if not version.amount_min <= amount <= version.amount_max:
        raise ValidationError(
            {
                "amount": _("申请金额须在产品额度 %(r)s 之间，实际为 %(v)s")
                % {
                    "r": money_range(version.amount_min, version.amount_max),
                    "v": amount_text(amount),
                }
            },
            code="out_of_range",
        )
    term = _int(data, "term_months", _("申请期限"))
    if not version.term_min_months <= term <= version.term_max_months:
        raise ValidationError(
            {
                "term_months": _("申请期限须在产品期限 %(lo)s–%(hi)s 个月之间，实际为 %(v)s 个月")
                % {"lo": version.term_min_months, "hi": version.term_max_months, "v": term}
            },
            code="out_of_range",
        )
    methods = version.repayment_methods or list(RepaymentMethod.values)
    method = str(data.get("repayment_method") or methods[0])
    if method not in methods:
        raise ValidationError(
            {
                "repayment_method": _("该产品不支持此还款方式，可选：%(m)s")
                % {"m": "、".join(str(RepaymentMethod(m).label) for m in methods)}
            },
            code="invalid_choice",
        )
    purpose = str(data.get("purpose") or "").strip()
    if len(purpose) > 500:
        raise ValidationError(
            {"purpose": _("资金用途不超过 500 字，实际 %(n)s 字") % {"n": len(purpose)}},
            code="max_length",
        )
    return amount, term, method, purpose


def _ensure_eligible(entity: MarketEntity, version: ProductVersion) -> None:
    facts = entity_facts(entity_ids=[entity.pk]).get(entity.pk)
    if facts is None:
        raise NotFoundError("not_found", _("申请主体不存在"))
    vetoed = veto_reason(entity.pk)
    if vetoed:
        raise ApplicationError(
            "blacklisted",
            _("已列入信用黑名单（一票否决），不能申请贷款：%(r)s") % {"r": vetoed},
            {"reasons": ["blacklisted"]},
            status=422,
        )
    verdict = evaluate(version, facts)
    if not verdict.eligible:
        raise ApplicationError(
            "not_eligible",
            _("不符合该产品的申请条件：%(r)s")
            % {"r": "；".join(r.message for r in verdict.reasons)},
            {"reasons": [r.code for r in verdict.reasons]},
            status=422,
        )


@transaction.atomic
def application_submit(
    *,
    actor: User,
    entity: MarketEntity,
    product: Product,
    data: dict[str, Any],
    consent_scope: str = Scope.FULL,
    consent_categories: list[str] | None = None,
    consent_days: int = DEFAULT_CONSENT_DAYS,
    demand: Demand | None = None,
    renewal_of: Loan | None = None,
    referred_from: LoanApplication | None = None,
) -> LoanApplication:
    """Apply to a published product and, in the same step, authorise its institution to read.

    The application keeps the product version it was made on. The enterprise must meet the
    product's eligibility conditions and may have only one open application per product.
    """
    _ensure_entity_user(actor, entity)
    product = (
        Product.objects.select_for_update(of=("self",))
        .select_related("current_version", "institution")
        .get(pk=product.pk)
    )
    version = product.current_version
    if product.status != ProductStatus.PUBLISHED or version is None:
        raise ConflictError("not_published", _("该产品未上架，不能申请"), {"field": "product"})
    amount, term, method, purpose = application_clean(version=version, data=data)
    _ensure_eligible(entity, version)
    if demand is not None and demand.entity_id != entity.pk:
        raise PermissionDeniedError("forbidden", _("只能基于本企业的融资需求申请"))
    without_principal = bool(data.get("without_principal_repayment"))
    if renewal_of is not None:
        if renewal_of.entity_id != entity.pk:
            raise PermissionDeniedError("forbidden", _("只能为本企业的贷款申请续贷"))
        if renewal_of.status == LoanStatus.SETTLED or renewal_of.status == LoanStatus.DEFAULTED:
            raise ConflictError(
                "not_renewable",
                _("贷款“%(n)s”已%(s)s，不能续贷")
                % {"n": renewal_of.number, "s": renewal_of.get_status_display()},
                {"field": "renewal_of"},
            )
        if renewal_of.institution_id != product.institution_id:
            raise ConflictError(
                "renewal_other_institution",
                _("续贷须向原放款机构申请：贷款“%(n)s”由%(i)s发放")
                % {"n": renewal_of.number, "i": renewal_of.institution.name},
                {"field": "renewal_of"},
            )
        pending = LoanApplication.objects.filter(
            renewal_of=renewal_of, status__in=ACTIVE_STATUSES
        ).first()
        if pending is not None:
            raise ConflictError(
                "renewal_pending",
                _("贷款“%(n)s”已有在办的续贷申请（%(a)s）")
                % {"n": renewal_of.number, "a": pending.number},
                {"field": "renewal_of"},
            )
        horizon = timezone.localdate() + dt.timedelta(days=RENEWAL_HORIZON_DAYS)
        if renewal_of.maturity_on > horizon:
            raise ConflictError(
                "not_due_for_renewal",
                _("贷款“%(n)s”%(d)s 到期，到期前 %(k)s 天内才能申请续贷")
                % {
                    "n": renewal_of.number,
                    "d": renewal_of.maturity_on.isoformat(),
                    "k": RENEWAL_HORIZON_DAYS,
                },
                {"field": "renewal_of"},
            )
    if without_principal and renewal_of is not None and renewal_of.status != LoanStatus.CURRENT:
        raise ValidationError(
            {
                "without_principal_repayment": _(
                    "贷款“%(n)s”当前%(s)s，无还本续贷只适用于正常还款的贷款"
                )
                % {"n": renewal_of.number, "s": renewal_of.get_status_display()}
            },
            code="invalid",
        )
    if without_principal and (renewal_of is None or "无还本续贷" not in version.tags):
        raise ValidationError(
            {
                "without_principal_repayment": _(
                    "只有标注“无还本续贷”的产品可以为到期贷款办理无还本续贷"
                )
            },
            code="invalid",
        )
    open_one = (
        LoanApplication.objects.filter(entity=entity, product=product, status__in=ACTIVE_STATUSES)
        .only("number")
        .first()
    )
    if open_one is not None:
        raise ConflictError(
            "duplicate_application",
            _("本企业已有该产品的在办申请（%(n)s），请勿重复申请") % {"n": open_one.number},
            {"field": "product", "application": open_one.number},
        )
    authorisation = authorisation_grant(
        entity=entity,
        actor=actor,
        institution=product.institution,
        scope=consent_scope,
        categories=consent_categories,
        purpose=Purpose.LOAN_APPLICATION,
        purpose_note=_("贷款申请：%(p)s") % {"p": product.name},
        expires_on=timezone.localdate() + dt.timedelta(days=consent_days),
    )
    now = timezone.now()
    app = LoanApplication(
        number=_application_number(),
        entity=entity,
        product=product,
        product_version=version,
        institution_id=product.institution_id,
        demand=demand,
        referred_from=referred_from,
        renewal_of=renewal_of,
        without_principal_repayment=without_principal,
        authorisation=authorisation,
        amount=amount,
        term_months=term,
        repayment_method=method,
        purpose=purpose,
        submitted_by=actor,
        submitted_at=now,
        sla_due_at=_deadline(now, version.days_to_accept),
    )
    app.full_clean(exclude=["authorisation", "product_version", "institution"])
    app.save()
    event_record(
        APPLICATION,
        app,
        ApplicationEventKind.SUBMITTED,
        actor=actor,
        created=True,
        data={"version": version.number, "authorisation": authorisation.pk},
        note=_("同时授权%(i)s查询本企业信用信息（%(s)s，至 %(d)s）")
        % {
            "i": product.institution.name,
            "s": Scope(consent_scope).label,
            "d": timezone.localtime(authorisation.expires_at).date().isoformat(),
        },
        event_fields={"organisation_id": actor.organisation_id},
    )
    application_arrival_notify(app)
    return app


def application_arrival_notify(app: LoanApplication) -> None:
    """Tell the institution's officers and reviewers, after the commit, that an application came."""
    notify_on_commit(
        recipients=institution_staff(app),
        kind="loan_application",
        title=_("新的贷款申请：%(e)s 申请“%(p)s” %(a)s")
        % {"e": app.entity.name, "p": app.product.name, "a": amount_text(app.amount)},
        link=reverse("marketplace:application_detail", args=[app.pk]),
        organisation_id=app.institution_id,
    )


@transaction.atomic
def application_accept(
    *, application: LoanApplication, actor: User, note: str = "", via_api: bool = False
) -> LoanApplication:
    """Accept the application for review (受理); the decision's service-level timer starts."""

    def update(app: LoanApplication) -> None:
        now = timezone.now()
        app.accepted_at = now
        app.officer = actor
        app.sla_due_at = _deadline(now, app.product_version.days_to_decide)
        app.sla_breached_at = None

    return _apply(application, "accept", actor=actor, note=note, via_api=via_api, update=update)


@transaction.atomic
def application_review_start(
    *, application: LoanApplication, actor: User, note: str = "", via_api: bool = False
) -> LoanApplication:
    """Hand the accepted application to the reviewers (进入审批)."""
    return _apply(application, "review", actor=actor, note=note, via_api=via_api)


@transaction.atomic
def application_approve(
    *,
    application: LoanApplication,
    actor: User,
    amount: Decimal,
    rate: Decimal,
    term_months: int,
    note: str = "",
    via_api: bool = False,
) -> LoanApplication:
    """Approve with the granted amount, annual rate and term, within the product's ranges."""

    def update(app: LoanApplication) -> None:
        version = app.product_version
        errors: dict[str, str] = {}
        if not Decimal("0") < amount <= version.amount_max:
            errors["amount"] = _("批准金额须大于 0 且不超过产品最高额度 %(hi)s") % {
                "hi": amount_text(version.amount_max)
            }
        if not version.rate_min <= rate <= version.rate_max:
            errors["rate"] = _("批准年利率须在产品利率 %(lo)s%%–%(hi)s%% 之间") % {
                "lo": version.rate_min,
                "hi": version.rate_max,
            }
        if not version.term_min_months <= term_months <= version.term_max_months:
            errors["term_months"] = _("批准期限须在产品期限 %(lo)s–%(hi)s 个月之间") % {
                "lo": version.term_min_months,
                "hi": version.term_max_months,
            }
        if errors:
            raise ValidationError(errors, code="out_of_range")
        app.approved_amount = amount
        app.approved_rate = rate
        app.approved_term_months = term_months
        app.decided_at = timezone.now()
        app.sla_due_at = None

    return _apply(
        application,
        "approve",
        actor=actor,
        note=note
        or _("批准金额 %(a)s，年利率 %(r)s%%，期限 %(t)s 个月")
        % {"a": amount_text(amount), "r": rate, "t": term_months},
        via_api=via_api,
        data={"amount": str(amount), "rate": str(rate), "term_months": term_months},
        update=update,
    )


@transaction.atomic
def application_reject(
    *,
    application: LoanApplication,
    actor: User,
    reason: str,
    note: str,
    via_api: bool = False,
) -> LoanApplication:
    """Decline with a reason code and a written explanation the enterprise reads."""
    note = (note or "").strip()[:2000]

    def update(app: LoanApplication) -> None:
        if reason not in RejectReason.values:
            raise ValidationError(
                {
                    "reason": _("请选择拒绝原因，可选：%(c)s")
                    % {"c": "、".join(RejectReason.values)}
                },
                code="invalid_choice",
            )
        if not note:
            raise ValidationError({"note": _("请填写拒绝说明，企业会看到它")}, code="required")
        now = timezone.now()
        app.reject_reason = reason
        app.reject_note = note
        app.decided_at = now
        app.closed_at = now
        app.sla_due_at = None
        if app.authorisation is not None:  # imported history has no platform consent
            authorisation_end(authorisation=app.authorisation)

    return _apply(
        application,
        "reject",
        actor=actor,
        note=note,
        via_api=via_api,
        data={"reason": reason},
        update=update,
    )


@transaction.atomic
def application_withdraw(
    *, application: LoanApplication, actor: User, note: str = ""
) -> LoanApplication:
    """Withdraw before approval; the authorisation granted with it is revoked too."""

    def update(app: LoanApplication) -> None:
        app.closed_at = timezone.now()
        app.sla_due_at = None
        if app.authorisation is not None:  # imported history has no platform consent
            authorisation_revoke(authorisation=app.authorisation, actor=actor)

    return _apply(application, "withdraw", actor=actor, note=note, update=update)


@transaction.atomic
def application_sign(
    *,
    application: LoanApplication,
    actor: User,
    contract_no: str,
    signed_on: dt.date | None = None,
    via_api: bool = False,
) -> LoanApplication:
    """Record the signed loan contract."""
    contract_no = (contract_no or "").strip()
    day = signed_on or timezone.localdate()

    def update(app: LoanApplication) -> None:
        if not contract_no or len(contract_no) > 64:
            raise ValidationError(
                {"contract_no": _("请填写合同编号（1–64 个字符）")}, code="required"
            )
        if day > timezone.localdate():
            raise ValidationError({"signed_on": _("签约日期不能晚于今天")}, code="future")
        applied_on = timezone.localdate(app.submitted_at)
        if day < applied_on:
            raise ValidationError(
                {
                    "signed_on": _("签约日期 %(s)s 早于申请日期 %(a)s：合同不能在申请之前签订")
                    % {"s": day.isoformat(), "a": applied_on.isoformat()}
                },
                code="before_application",
            )
        app.contract_no = contract_no
        app.contract_signed_on = day

    return _apply(
        application,
        "sign",
        actor=actor,
        via_api=via_api,
        note=_("合同编号 %(c)s") % {"c": contract_no},
        data={"contract_no": contract_no, "signed_on": day.isoformat()},
        update=update,
    )


def applications_sla_sweep(*, now: dt.datetime | None = None) -> int:
    """Flag applications whose acceptance or decision is past its service-level time limit.

    Each breach is recorded once, as an ``sla_breached`` event of the platform, and both sides
    are told (the notices of the ``sla_breach`` action). Returns the count.
    """
    moment = now or timezone.now()

    def flag(app: LoanApplication) -> None:
        app.sla_breached_at = moment

    with transaction.atomic():
        apps = list(
            LoanApplication.objects.select_for_update(of=("self",))
            .filter(
                status__in=PENDING_STATUSES, sla_due_at__lt=moment, sla_breached_at__isnull=True
            )
            .order_by("id")
        )
        for app in apps:
            stage = _("受理") if app.status == ApplicationStatus.SUBMITTED else _("审批")
            assert app.sla_due_at is not None
            due = timezone.localtime(app.sla_due_at).strftime("%Y-%m-%d %H:%M")
            transition_apply(
                APPLICATION,
                app,
                "sla_breach",
                actor=None,
                note=_("%(s)s超出产品承诺的服务时限（截止 %(d)s）") % {"s": stage, "d": due},
                update=flag,
                event_fields={"created_at": moment},
            )
    return len(apps)


@transaction.atomic
def application_refer(
    *,
    application: LoanApplication,
    actor: User,
    products: list[Product],
    consent_scope: str | None = None,
    consent_categories: list[str] | None = None,
    consent_days: int | None = None,
) -> list[LoanApplication]:
    """Pass a rejected application on to the other institutions' products the enterprise chose
    (拒贷转介).

    Each new application copies amount, term and purpose of the original and grants the new
    institution its own authorisation with the scope the enterprise chose for the referral (the
    original's scope when none is given, e.g. through the API).
    """
    app = _app_locked(application)
    _ensure_entity_user(actor, app.entity)
    APPLICATION.check(actor, app, "refer")
    chosen = [p for p in products if p.institution_id != app.institution_id]
    if not chosen:
        raise ValidationError({"products": _("请至少选择一个其他机构的产品")}, code="required")
    if len(chosen) > REFER_LIMIT:
        raise ValidationError(
            {"products": _("一次最多转介 %(n)s 个产品") % {"n": REFER_LIMIT}}, code="too_many"
        )
    auth = app.authorisation
    if auth is None and not consent_scope:  # imported history carries no consent to reuse
        raise ValidationError({"consent_scope": _("请选择授权范围")}, code="required")
    new = []
    for product in chosen:
        version = product.current_version
        data: dict[str, Any] = {
            "amount": app.amount,
            "term_months": app.term_months,
            "purpose": app.purpose,
        }
        if version is not None and app.repayment_method in (version.repayment_methods or []):
            data["repayment_method"] = app.repayment_method
        try:
            new.append(
                application_submit(
                    actor=actor,
                    entity=app.entity,
                    product=product,
                    data=data,
                    consent_scope=consent_scope or (auth.scope if auth else ""),
                    consent_categories=(
                        consent_categories if consent_scope or auth is None else auth.categories
                    ),
                    consent_days=consent_days or DEFAULT_CONSENT_DAYS,
                    demand=app.demand,
                    renewal_of=app.renewal_of,
                    referred_from=app,
                )
            )
        except (ApplicationError, ValidationError) as exc:
            message = exc.message if isinstance(exc, ApplicationError) else "；".join(exc.messages)
            raise ApplicationError(
                "referral_failed",
                _("不能转介到“%(p)s”：%(m)s") % {"p": product.name, "m": message},
                {"field": "products", "product": product.pk},
                status=422,
            ) from exc
    _apply(
        app,
        "refer",
        actor=actor,
        note=_("转介至：%(l)s")
        % {"l": "、".join(f"{a.institution.name}（{a.number}）" for a in new)},
        data={"applications": [a.number for a in new]},
    )
    return new
