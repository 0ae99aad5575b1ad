"""Writes of the product supermarket: one service per workflow transition.

Versioning: a product's terms live in ``ProductVersion`` rows. A version is editable only while it
is a draft. Editing a product that has no draft (it is published, in review is refused, or
withdrawn) creates a new draft version numbered one higher; the published version stays live and
unchanged until the operator approves the new one, which then supersedes it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgGroup, OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from xinrong.credit import recipients
from xinrong.credit.choices import Purpose, Scope
from xinrong.credit.recipients import entity_users, operator_users
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.credit.services import (
    authorisation_end,
    authorisation_grant,
    authorisation_revoke,
    loan_watch_end,
    loan_watch_start,
)
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace import selectors
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    GUARANTEE_KINDS,
    PENDING_STATUSES,
    PRODUCT_KINDS,
    RENEWAL_HORIZON_DAYS,
    TAX_GRADES,
    ApplicationEventKind,
    ApplicationStatus,
    CollateralMode,
    DemandEventKind,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
    EventKind,
    FinancingCaseType,
    InterestStatus,
    LoanStatus,
    ProductStatus,
    ProductType,
    RejectReason,
    RepaymentMethod,
    ReserveEventKind,
    ReserveStatus,
    VersionStatus,
)
from xinrong.marketplace.eligibility import entity_facts, evaluate
from xinrong.marketplace.lifecycle import (
    ENTERPRISE,
    OFFICER_ROLES,
    REVIEWER_ROLES,
    TRANSITIONS,
    Transition,
    schedule,
)
from xinrong.marketplace.models import (
    ApplicationEvent,
    Demand,
    DemandEvent,
    DirectFinancingCase,
    InvestorInterest,
    Loan,
    LoanApplication,
    LoanInstalment,
    Product,
    ProductEvent,
    ProductVersion,
    Repayment,
    ReserveCandidate,
    ReserveEvent,
)
from xinrong.marketplace.selectors import reserve_metrics
from xinrong.notifications.services import notification_send
from xinrong.reference import divisions, industries

GRADES = tuple(g for g, _floor in DEFAULT_BANDS)
logger = logging.getLogger(__name__)
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
RATE_CEILING = Decimal("36")
TERM_FIELDS = (
    "product_type",
    "amount_min",
    "amount_max",
    "term_min_months",
    "term_max_months",
    "rate_min",
    "rate_max",
    "repayment_methods",
    "entity_types",
    "industries",
    "regions",
    "min_years_in_business",
    "min_credit_grade",
    "tax_grades",
    "collateral_modes",
    "tags",
    "supports_relending",
    "supports_rediscount",
    "days_to_accept",
    "days_to_decide",
    "description",
)
INSTITUTION_ROLES = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)


# ---------------------------------------------------------------- validation


def _decimal(terms: dict[str, Any], field: str, label: str) -> Decimal:
    try:
        value = Decimal(str(terms.get(field, "")).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {field: _("%(label)s应为数字") % {"label": label}}, code="invalid"
        ) from None
    if not value.is_finite():
        raise ValidationError({field: _("%(label)s应为数字") % {"label": label}}, code="invalid")
    return value


def _int(terms: dict[str, Any], field: str, label: str) -> int:
    try:
        return int(str(terms.get(field, "")).strip())
    except ValueError:
        raise ValidationError(
            {field: _("%(label)s应为整数") % {"label": label}}, code="invalid"
        ) from None


def _choices(
    terms: dict[str, Any], field: str, label: str, allowed: list[str] | tuple[str, ...]
) -> list[str]:
    raw = terms.get(field) or []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,，;；\s]+", raw) if p]
    values = [str(v).strip() for v in raw if str(v).strip()]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationError(
            {
                field: _("%(label)s取值“%(bad)s”无效，可选：%(allowed)s")
                % {"label": label, "bad": "、".join(bad), "allowed": "、".join(allowed)}
            },
            code="invalid_choice",
        )
    return list(dict.fromkeys(values))


def _codes(terms: dict[str, Any], field: str) -> list[str]:
    raw = terms.get(field) or []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,，;；\s]+", raw) if p]
    return [str(v).strip().upper() for v in raw if str(v).strip()]


def terms_clean(terms: dict[str, Any]) -> dict[str, Any]:
    """Return normalised product terms, or raise ValidationError naming the field in Chinese."""
    out: dict[str, Any] = {}
    ptype = str(terms.get("product_type", ""))
    if ptype not in ProductType.values:
        raise ValidationError(
            {
                "product_type": _("产品类型无效，可选：%(allowed)s")
                % {"allowed": "、".join(ProductType.values)}
            },
            code="invalid_choice",
        )
    out["product_type"] = ptype
    amin = _decimal(terms, "amount_min", _("最低额度"))
    amax = _decimal(terms, "amount_max", _("最高额度"))
    if amin <= 0:
        raise ValidationError({"amount_min": _("最低额度必须大于 0 元")}, code="out_of_range")
    if amin > amax:
        raise ValidationError(
            {
                "amount_max": _("最高额度（%(max)s 元）不能小于最低额度（%(min)s 元）")
                % {"max": amax, "min": amin}
            },
            code="out_of_range",
        )
    if amax >= Decimal("1e14"):
        raise ValidationError({"amount_max": _("最高额度过大")}, code="out_of_range")
    out["amount_min"], out["amount_max"] = (
        amin.quantize(Decimal("0.01")),
        amax.quantize(Decimal("0.01")),
    )
    tmin = _int(terms, "term_min_months", _("最短期限"))
    tmax = _int(terms, "term_max_months", _("最长期限"))
    for field, value, label in (
        ("term_min_months", tmin, _("最短期限")),
        ("term_max_months", tmax, _("最长期限")),
    ):
        if not 1 <= value <= 360:
            raise ValidationError(
                {
                    field: _("%(label)s应在 1–360 个月之间，实际为 %(v)s")
                    % {"label": label, "v": value}
                },
                code="out_of_range",
            )
    if tmin > tmax:
        raise ValidationError(
            {
                "term_max_months": _("最长期限（%(max)s 个月）不能小于最短期限（%(min)s 个月）")
                % {"max": tmax, "min": tmin}
            },
            code="out_of_range",
        )
    out["term_min_months"], out["term_max_months"] = tmin, tmax
    rmin = _decimal(terms, "rate_min", _("最低年利率"))
    rmax = _decimal(terms, "rate_max", _("最高年利率"))
    for field, rate, label in (
        ("rate_min", rmin, _("最低年利率")),
        ("rate_max", rmax, _("最高年利率")),
    ):
        if not Decimal(0) <= rate <= RATE_CEILING:
            raise ValidationError(
                {
                    field: _("%(label)s应在 0%%–36%% 之间，实际为 %(v)s%%")
                    % {"label": label, "v": rate}
                },
                code="out_of_range",
            )
    if rmin > rmax:
        raise ValidationError(
            {
                "rate_max": _("最高年利率（%(max)s%%）不能小于最低年利率（%(min)s%%）")
                % {"max": rmax, "min": rmin}
            },
            code="out_of_range",
        )
    out["rate_min"], out["rate_max"] = (
        rmin.quantize(Decimal("0.01")),
        rmax.quantize(Decimal("0.01")),
    )
    out["repayment_methods"] = _choices(
        terms, "repayment_methods", _("还款方式"), RepaymentMethod.values
    )
    if not out["repayment_methods"]:
        raise ValidationError({"repayment_methods": _("至少选择一种还款方式")}, code="required")
    out["entity_types"] = _choices(terms, "entity_types", _("适用主体类型"), EntityType.values)
    inds: list[str] = []
    for code in _codes(terms, "industries"):
        if not industries.is_valid(code):
            raise ValidationError(
                {"industries": _("行业代码“%(c)s”不是 GB/T 4754-2017 的门类或大类") % {"c": code}},
                code="invalid_industry",
            )
        normal = industries.normalize(code)
        inds.append(normal if len(normal) == 1 else normal[:3])
    out["industries"] = list(dict.fromkeys(inds))
    regs: list[str] = []
    for code in _codes(terms, "regions"):
        division = divisions.get(code)
        if division is None:
            raise ValidationError(
                {"regions": _("行政区划代码“%(c)s”不存在") % {"c": code}}, code="invalid_region"
            )
        regs.append(division.code)
    out["regions"] = list(dict.fromkeys(regs))
    years = (
        _decimal(terms, "min_years_in_business", _("最低经营年限"))
        if str(terms.get("min_years_in_business", "")).strip()
        else Decimal(0)
    )
    if not Decimal(0) <= years <= Decimal(100):
        raise ValidationError(
            {"min_years_in_business": _("最低经营年限应在 0–100 年之间")}, code="out_of_range"
        )
    out["min_years_in_business"] = years.quantize(Decimal("0.1"))
    grade = str(terms.get("min_credit_grade") or "").strip().upper()
    if grade and grade not in GRADES:
        raise ValidationError(
            {
                "min_credit_grade": _("最低信用等级“%(g)s”无效，可选：%(allowed)s")
                % {"g": grade, "allowed": "、".join(GRADES)}
            },
            code="invalid_choice",
        )
    out["min_credit_grade"] = grade
    out["tax_grades"] = [
        g for g in TAX_GRADES if g in _choices(terms, "tax_grades", _("纳税信用等级"), TAX_GRADES)
    ]
    out["collateral_modes"] = _choices(
        terms, "collateral_modes", _("担保方式"), CollateralMode.values
    )
    tags = _codes(terms, "tags")
    if any(len(t) > 20 or "|" in t for t in tags) or len(tags) > 12:
        raise ValidationError(
            {"tags": _("标签最多 12 个，每个不超过 20 字，且不能含“|”")}, code="invalid"
        )
    out["tags"] = list(dict.fromkeys(tags))
    out["supports_relending"] = bool(terms.get("supports_relending"))
    out["supports_rediscount"] = bool(terms.get("supports_rediscount"))
    for field, label in (("days_to_accept", _("受理时限")), ("days_to_decide", _("审批时限"))):
        value = _int(terms, field, label)
        if not 1 <= value <= 90:
            raise ValidationError(
                {field: _("%(label)s应在 1–90 天之间") % {"label": label}}, code="out_of_range"
            )
        out[field] = value
    out["description"] = str(terms.get("description") or "").strip()[:5000]
    return out


def region_index(regions: list[str]) -> str:
    """Return the search key of a region list: every region's descendants prefix, bar-delimited."""
    if not regions:
        return ""
    return "|" + "|".join(divisions.descendants_prefix(r) for r in regions) + "|"


def tag_index(tags: list[str]) -> str:
    """Return the search key of a tag list."""
    return "|" + "|".join(tags) + "|" if tags else ""


def _apply_terms(version: ProductVersion, terms: dict[str, Any]) -> None:
    for field in TERM_FIELDS:
        setattr(version, field, terms[field])
    version.region_index = region_index(terms["regions"])
    version.tag_index = tag_index(terms["tags"])


# ---------------------------------------------------------------- permissions


def _ensure_institution_user(user: User, institution: Organisation) -> None:
    if not permissions.can(user, "marketplace.product_manage"):
        raise PermissionDeniedError(
            "forbidden", _("只有金融机构的机构管理员或客户经理可以维护产品")
        )
    permissions.require(
        user, "marketplace.product_manage", institution, message=_("只能维护本机构的产品")
    )


def _ensure_operator(user: User) -> None:
    if not permissions.can(user, "marketplace.product_review"):
        raise PermissionDeniedError("forbidden", _("只有平台运营管理员可以审核产品"))


def _ensure_kind_offers(institution: Organisation, product_type: str) -> None:
    if institution.kind not in PRODUCT_KINDS:
        raise ValidationError(
            {"institution": _("%(k)s不能发布金融产品") % {"k": institution.get_kind_display()}},
            code="invalid_institution",
        )
    if institution.kind in GUARANTEE_KINDS and product_type != ProductType.GUARANTEE:
        raise ValidationError(
            {"product_type": _("担保机构和保险机构只能发布“担保/保证”类产品")},
            code="invalid_choice",
        )


def _event(
    *,
    product: Product,
    version: ProductVersion | None,
    kind: str,
    actor: User | None,
    from_status: str,
    to_status: str,
    note: str = "",
) -> ProductEvent:
    return ProductEvent.objects.create(
        product=product,
        version=version,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        note=note,
        created_at=timezone.now(),
    )


def _locked(product: Product) -> Product:
    return Product.objects.select_for_update().select_related("institution").get(pk=product.pk)


# ---------------------------------------------------------------- transitions


@transaction.atomic
def product_create(*, actor: User, code: str, name: str, terms: dict[str, Any]) -> Product:
    """Create a draft product of the actor's institution with its first version."""
    institution = actor.organisation
    if institution is None:
        raise PermissionDeniedError("forbidden", _("只有金融机构的用户可以创建产品"))
    _ensure_institution_user(actor, institution)
    code = code.strip().upper()
    if not CODE_RE.match(code):
        raise ValidationError(
            {"code": _("产品代码应为 3–32 位大写字母、数字或“-”，实际为“%(c)s”") % {"c": code}},
            code="invalid",
        )
    if Product.objects.filter(code=code).exists():
        raise ConflictError(
            "duplicate", _("产品代码“%(c)s”已被使用") % {"c": code}, {"field": "code"}
        )
    name = name.strip()
    if not 2 <= len(name) <= 100:
        raise ValidationError({"name": _("产品名称应为 2–100 个字")}, code="invalid")
    clean = terms_clean(terms)
    _ensure_kind_offers(institution, clean["product_type"])
    product = Product(institution=institution, code=code, name=name)
    product.full_clean(exclude=["current_version", "draft_version"])
    product.save()
    version = ProductVersion(product=product, number=1, created_by=actor)
    _apply_terms(version, clean)
    version.full_clean()
    version.save()
    product.draft_version = version
    product.save(update_fields=["draft_version", "updated_at"])
    _event(
        product=product,
        version=version,
        kind=EventKind.CREATED,
        actor=actor,
        from_status="",
        to_status=ProductStatus.DRAFT,
    )
    return product


@transaction.atomic
def product_update(
    *, product: Product, actor: User, name: str | None = None, terms: dict[str, Any]
) -> ProductVersion:
    """Change a product's terms: edit its draft, or open a new draft version of a live product."""
    product = _locked(product)
    _ensure_institution_user(actor, product.institution)
    clean = terms_clean(terms)
    _ensure_kind_offers(product.institution, clean["product_type"])
    draft = (
        ProductVersion.objects.select_for_update().get(pk=product.draft_version_id)
        if product.draft_version_id
        else None
    )
    if draft is not None and draft.status == VersionStatus.IN_REVIEW:
        raise ConflictError(
            "in_review", _("产品条款正在审核中，不能修改；请等待审核结果或由运营方退回")
        )
    if draft is None:
        number = (product.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = ProductVersion(product=product, number=number, created_by=actor)
    _apply_terms(draft, clean)
    draft.full_clean()
    draft.save()
    fields = ["updated_at"]
    if product.draft_version_id != draft.pk:
        product.draft_version = draft
        fields.append("draft_version")
    if name is not None and name.strip() and name.strip() != product.name:
        if not 2 <= len(name.strip()) <= 100:
            raise ValidationError({"name": _("产品名称应为 2–100 个字")}, code="invalid")
        product.name = name.strip()
        fields.append("name")
    product.save(update_fields=fields)
    _event(
        product=product,
        version=draft,
        kind=EventKind.EDITED,
        actor=actor,
        from_status=product.status,
        to_status=product.status,
        note=_("第 %(n)s 版条款") % {"n": draft.number},
    )
    return draft


@transaction.atomic
def product_submit(*, product: Product, actor: User, note: str = "") -> Product:
    """Send the product's draft version to the platform operator for review."""
    product = _locked(product)
    _ensure_institution_user(actor, product.institution)
    if not product.draft_version_id:
        raise ConflictError("no_draft", _("没有待提交的草稿版本；请先修改条款"))
    draft = ProductVersion.objects.select_for_update().get(pk=product.draft_version_id)
    if draft.status != VersionStatus.DRAFT:
        raise ConflictError("in_review", _("该版本已提交审核，请勿重复提交"))
    draft.status = VersionStatus.IN_REVIEW
    draft.submitted_at = timezone.now()
    draft.save(update_fields=["status", "submitted_at", "updated_at"])
    before = product.status
    if product.status in (ProductStatus.DRAFT, ProductStatus.WITHDRAWN):
        product.status = ProductStatus.IN_REVIEW
        product.save(update_fields=["status", "updated_at"])
    _event(
        product=product,
        version=draft,
        kind=EventKind.SUBMITTED,
        actor=actor,
        from_status=before,
        to_status=product.status,
        note=note.strip()[:2000],
    )
    return product


@transaction.atomic
def product_approve(*, product: Product, actor: User, note: str = "") -> Product:
    """Publish the version under review; the previously live version is superseded."""
    _ensure_operator(actor)
    product = _locked(product)
    draft = (
        ProductVersion.objects.select_for_update().get(pk=product.draft_version_id)
        if product.draft_version_id
        else None
    )
    if draft is None or draft.status != VersionStatus.IN_REVIEW:
        raise ConflictError("not_in_review", _("该产品没有待审核的版本"))
    now = timezone.now()
    if product.current_version_id:
        ProductVersion.objects.filter(pk=product.current_version_id).update(
            status=VersionStatus.SUPERSEDED, updated_at=now
        )
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = now
    draft.save(update_fields=["status", "published_at", "updated_at"])
    before = product.status
    product.current_version = draft
    product.draft_version = None
    product.status = ProductStatus.PUBLISHED
    product.published_at = product.published_at or now
    product.save(
        update_fields=["current_version", "draft_version", "status", "published_at", "updated_at"]
    )
    _event(
        product=product,
        version=draft,
        kind=EventKind.APPROVED,
        actor=actor,
        from_status=before,
        to_status=product.status,
        note=note.strip()[:2000],
    )
    return product


@transaction.atomic
def product_return(*, product: Product, actor: User, reason: str) -> Product:
    """Send the version under review back to the institution with a reason."""
    _ensure_operator(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("退回时必须填写原因")}, code="required")
    product = _locked(product)
    draft = (
        ProductVersion.objects.select_for_update().get(pk=product.draft_version_id)
        if product.draft_version_id
        else None
    )
    if draft is None or draft.status != VersionStatus.IN_REVIEW:
        raise ConflictError("not_in_review", _("该产品没有待审核的版本"))
    draft.status = VersionStatus.DRAFT
    draft.save(update_fields=["status", "updated_at"])
    before = product.status
    if product.status == ProductStatus.IN_REVIEW:
        product.status = ProductStatus.DRAFT
        product.save(update_fields=["status", "updated_at"])
    _event(
        product=product,
        version=draft,
        kind=EventKind.RETURNED,
        actor=actor,
        from_status=before,
        to_status=product.status,
        note=reason[:2000],
    )
    return product


@transaction.atomic
def product_withdraw(*, product: Product, actor: User, note: str = "") -> Product:
    """Take a published product off the supermarket (the institution's decision)."""
    product = _locked(product)
    _ensure_institution_user(actor, product.institution)
    if product.status != ProductStatus.PUBLISHED:
        raise ConflictError(
            "not_published",
            _("只有已上架的产品可以下架，当前状态：%(s)s") % {"s": product.get_status_display()},
        )
    product.status = ProductStatus.WITHDRAWN
    product.save(update_fields=["status", "updated_at"])
    _event(
        product=product,
        version=product.current_version,
        kind=EventKind.WITHDRAWN,
        actor=actor,
        from_status=ProductStatus.PUBLISHED,
        to_status=ProductStatus.WITHDRAWN,
        note=note.strip()[:2000],
    )
    return product


# ---------------------------------------------------------------- financing demands

DEMAND_AMOUNT_MAX = Decimal("100000000")
ENTERPRISE_ROLES = (Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT)


def _ensure_entity_user(user: User, entity: MarketEntity) -> None:
    permissions.require(
        user,
        "marketplace.demand_file",
        entity,
        message=_("只有该企业的企业主或经办人可以发布或撤回其融资需求"),
    )


def demand_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Return normalised demand fields, or raise ValidationError naming the field in Chinese."""
    amount = _decimal(data, "amount", _("融资金额"))
    if not Decimal("0") < amount <= DEMAND_AMOUNT_MAX:
        raise ValidationError(
            {
                "amount": _("融资金额应大于 0 元且不超过 100,000,000 元，实际为 %(v)s")
                % {"v": amount}
            },
            code="out_of_range",
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("融资金额最多保留两位小数（分）")}, code="invalid")
    term = _int(data, "term_months", _("期限"))
    if not 1 <= term <= 360:
        raise ValidationError(
            {"term_months": _("期限应为 1–360 个月，实际为 %(v)s") % {"v": term}},
            code="out_of_range",
        )
    rate = _decimal(data, "max_rate", _("可接受最高年利率"))
    if not Decimal("0") <= rate <= RATE_CEILING:
        raise ValidationError(
            {"max_rate": _("可接受最高年利率应为 0–36（%%），实际为 %(v)s") % {"v": rate}},
            code="out_of_range",
        )
    if rate != rate.quantize(Decimal("0.01")):
        raise ValidationError({"max_rate": _("年利率最多保留两位小数")}, code="invalid")
    category = str(data.get("purpose_category") or "").strip()
    if category not in DemandPurpose.values:
        raise ValidationError(
            {
                "purpose_category": _("用途类别“%(v)s”无效，可选：%(a)s")
                % {"v": category, "a": "、".join(DemandPurpose.values)}
            },
            code="invalid_choice",
        )
    purpose = str(data.get("purpose") or "").strip()
    if len(purpose) > 1000:
        raise ValidationError({"purpose": _("资金用途说明不超过 1000 字")}, code="invalid")
    urgency = str(data.get("urgency") or DemandUrgency.NORMAL).strip()
    if urgency not in DemandUrgency.values:
        raise ValidationError(
            {
                "urgency": _("紧急程度“%(v)s”无效，可选：%(a)s")
                % {"v": urgency, "a": "、".join(DemandUrgency.values)}
            },
            code="invalid_choice",
        )
    modes = _choices(data, "collateral_modes", _("可接受的担保方式"), CollateralMode.values)
    return {
        "amount": amount,
        "term_months": term,
        "max_rate": rate,
        "purpose_category": category,
        "purpose": purpose,
        "urgency": urgency,
        "collateral_modes": modes,
    }


@transaction.atomic
def demand_publish(*, actor: User, entity: MarketEntity, data: dict[str, Any]) -> Demand:
    """Publish an open financing demand of an entity (its owner or agent only)."""
    _ensure_entity_user(actor, entity)
    fields = demand_clean(data)
    demand = Demand(entity=entity, created_by=actor, division_code=entity.division_code, **fields)
    demand.full_clean()
    demand.save()
    _demand_event(demand=demand, kind=DemandEventKind.PUBLISHED, actor=actor)
    return demand


@transaction.atomic
def demand_withdraw(*, demand: Demand, actor: User) -> Demand:
    """Withdraw an open demand; it leaves matching and the institutions' hall."""
    demand = Demand.objects.select_for_update().select_related("entity").get(pk=demand.pk)
    _ensure_entity_user(actor, demand.entity)
    if demand.status != DemandStatus.OPEN:
        raise ConflictError(
            "not_open",
            _("只有征集中的需求可以撤回，当前状态为“%(s)s”") % {"s": demand.get_status_display()},
        )
    holder = demand.held_by_id
    demand.status = DemandStatus.WITHDRAWN
    demand.closed_at = timezone.now()
    demand.held_by, demand.held_until = None, None  # a withdrawn demand is nobody's any more
    demand.save(update_fields=["status", "closed_at", "held_by", "held_until", "updated_at"])
    _demand_event(
        demand=demand, kind=DemandEventKind.WITHDRAWN, actor=actor, organisation_id=holder
    )
    return demand


# ---------------------------------------------------------------- 抢单 (institutions take demands)
#
# One institution holds an open demand at a time, for XINRONG_DEMAND_HOLD_HOURS; then the demand
# returns to the pool. The demand stays open while held: the enterprise sees who holds it. A
# hold whose time has run out counts as free even before the sweep records its expiry.


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _demand_event(
    *,
    demand: Demand,
    kind: str,
    actor: User | None = None,
    organisation_id: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> DemandEvent:
    return DemandEvent.objects.create(
        demand=demand,
        kind=kind,
        actor=actor,
        organisation_id=organisation_id,
        note=note,
        created_at=now or timezone.now(),
    )


def _demand_locked(demand: Demand) -> Demand:
    # No join on held_by: after waiting for the lock, PostgreSQL returns the row's new held_by_id
    # but the outer-joined holder as it was before, so the holder is read after locking.
    return Demand.objects.select_for_update(of=("self",)).select_related("entity").get(pk=demand.pk)


def _notify_entity(demand: Demand, *, kind: str, title: str, body: str) -> None:
    """Tell the enterprise's users after commit (they then read the committed state)."""
    entity = demand.entity
    link = reverse("marketplace:demand", args=[demand.pk])

    def send() -> None:
        notification_send(
            recipients=entity_users(entity=entity),
            kind=kind,
            title=title,
            body=body,
            link=link,
            organisation_id=entity.organisation_id,
        )

    transaction.on_commit(send)


def demand_hold_hours() -> int:
    """Return how long a take holds a demand (``XINRONG_DEMAND_HOLD_HOURS``, at least 1)."""
    return max(1, int(getattr(settings, "XINRONG_DEMAND_HOLD_HOURS", 72)))


def demand_escalate_days() -> int:
    """Return after how many untaken days a demand escalates (``XINRONG_DEMAND_ESCALATE_DAYS``)."""
    return max(1, int(getattr(settings, "XINRONG_DEMAND_ESCALATE_DAYS", 7)))


def _ensure_grabber(actor: User) -> Organisation:
    refusal = selectors.grab_refusal(user=actor)
    if refusal is not None:
        raise refusal
    assert actor.organisation is not None
    return actor.organisation


@transaction.atomic
def demand_take(*, demand: Demand, actor: User, now: dt.datetime | None = None) -> Demand:
    """Take (抢单) an open demand for the actor's lending institution for the hold period.

    Refused (403) for users who do not lend or outside the institution's service regions, and
    (409) while another institution holds it or when it is no longer open. Taking a demand one's
    institution already holds changes nothing: the hold is not extended.
    """
    institution = _ensure_grabber(actor)
    now = now or timezone.now()
    demand = _demand_locked(demand)  # the row lock makes two takes wait for each other
    if demand.status != DemandStatus.OPEN:
        raise ConflictError(
            "not_open",
            _("只有征集中的需求可以承接，当前状态为“%(s)s”") % {"s": demand.get_status_display()},
        )
    if not selectors.institution_covers(
        institution_id=institution.pk, division_code=demand.division_code
    ):
        raise PermissionDeniedError(
            "outside_region",
            _("该需求所在地区（%(r)s）不在本机构的服务地区内（按本机构已上架产品的适用地区）")
            % {"r": divisions.full_name(demand.division_code) or demand.division_code},
            {"division_code": demand.division_code},
        )
    if selectors.demand_is_held(demand, now=now):
        assert demand.held_by is not None and demand.held_until is not None
        if demand.held_by_id == institution.pk:
            return demand
        raise ConflictError(
            "held",
            _("该需求已由“%(o)s”承接，承接期至 %(t)s；到期未办理将退回需求池，届时可再抢单")
            % {"o": demand.held_by.name, "t": _local(demand.held_until)},
            {"held_by": demand.held_by.name, "held_until": demand.held_until.isoformat()},
        )
    if demand.held_by_id is not None:  # an ended hold the sweep has not recorded yet
        _demand_event(
            demand=demand,
            kind=DemandEventKind.EXPIRED,
            organisation_id=demand.held_by_id,
            note=_("承接期已过，退回需求池"),
            now=now,
        )
    demand.held_by = institution
    demand.held_until = now + dt.timedelta(hours=demand_hold_hours())
    demand.save(update_fields=["held_by", "held_until", "updated_at"])
    until = _local(demand.held_until)
    _demand_event(
        demand=demand,
        kind=DemandEventKind.TAKEN,
        actor=actor,
        organisation_id=institution.pk,
        note=_("承接至 %(t)s") % {"t": until},
        now=now,
    )
    _notify_entity(
        demand,
        kind="demand.taken",
        title=_("“%(o)s”承接了您的融资需求") % {"o": institution.name},
        body=_("融资金额 %(a)s 元；该机构将在 %(t)s 前与您联系办理，逾期未办理需求将退回需求池。")
        % {"a": f"{demand.amount:,.2f}", "t": until},
    )
    return demand


@transaction.atomic
def demand_release(*, demand: Demand, actor: User, note: str = "") -> Demand:
    """Give a held demand back to the pool (the holding institution's decision)."""
    institution = _ensure_grabber(actor)
    demand = _demand_locked(demand)
    if demand.held_by_id != institution.pk or not selectors.demand_is_held(demand):
        raise ConflictError("not_held", _("本机构当前未承接该需求（或承接期已过），无需放弃"))
    demand.held_by, demand.held_until = None, None
    demand.save(update_fields=["held_by", "held_until", "updated_at"])
    note = note.strip()[:2000]
    _demand_event(
        demand=demand,
        kind=DemandEventKind.RELEASED,
        actor=actor,
        organisation_id=institution.pk,
        note=note,
    )
    _notify_entity(
        demand,
        kind="demand.released",
        title=_("“%(o)s”放弃承接您的融资需求") % {"o": institution.name},
        body=(_("需求已退回需求池，其他机构可以承接。") + (f"\n{note}" if note else "")),
    )
    return demand


def demands_release_expired(*, now: dt.datetime | None = None) -> int:
    """Return demands whose hold has ended to the pool (event ``expired``); return how many."""
    now = now or timezone.now()
    with transaction.atomic():
        ended = list(
            Demand.objects.select_for_update(of=("self",))
            .filter(held_by__isnull=False, held_until__lte=now)
            .select_related("entity", "held_by")
            .order_by("id")
        )
        if not ended:
            return 0
        # updated_at is the demand hall's cache stamp: the real clock, whatever ``now`` says
        Demand.objects.filter(pk__in=[d.pk for d in ended]).update(
            held_by=None, held_until=None, updated_at=timezone.now()
        )
        DemandEvent.objects.bulk_create(
            [
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.EXPIRED,
                    organisation_id=d.held_by_id,
                    note=_("“%(o)s”的承接期（至 %(t)s）已过，退回需求池")
                    % {"o": d.held_by.name if d.held_by else "", "t": _local(d.held_until)},
                    created_at=now,
                )
                for d in ended
                if d.held_until is not None
            ]
        )
        for d in ended:
            _notify_entity(
                d,
                kind="demand.expired",
                title=_("融资需求的承接期已过，已退回需求池"),
                body=_("“%(o)s”未在承接期内办理，其他机构现在可以承接您的需求。")
                % {"o": d.held_by.name if d.held_by else ""},
            )
    return len(ended)


def demands_escalate_stale(*, now: dt.datetime | None = None) -> int:
    """Escalate open demands nobody holds that are older than the limit; return how many.

    Each demand escalates once (``escalated_at`` and an ``escalated`` event); each operator admin
    covering a demand's region gets one message listing its newly escalated demands.
    """
    now = now or timezone.now()
    days = demand_escalate_days()
    with transaction.atomic():
        stale = list(
            Demand.objects.select_for_update(of=("self",))
            .filter(
                status=DemandStatus.OPEN,
                escalated_at__isnull=True,
                created_at__lte=now - dt.timedelta(days=days),
            )
            .filter(Q(held_by__isnull=True) | Q(held_until__lte=now))
            .select_related("entity")
            .order_by("created_at", "id")
        )
        if not stale:
            return 0
        Demand.objects.filter(pk__in=[d.pk for d in stale]).update(
            escalated_at=now, updated_at=timezone.now()
        )
        DemandEvent.objects.bulk_create(
            [
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.ESCALATED,
                    note=_("发布超过 %(n)d 天无机构承接，已提请平台运营方跟进") % {"n": days},
                    created_at=now,
                )
                for d in stale
            ]
        )

        def send() -> None:
            by_user: dict[int, list[Demand]] = {}
            by_region: dict[str, list[User]] = {}  # demands share regions
            for d in stale:
                if d.division_code not in by_region:
                    by_region[d.division_code] = operator_users(entity=d.entity)
                for user in by_region[d.division_code]:
                    by_user.setdefault(user.pk, []).append(d)
            link = reverse("marketplace:demands_escalated")
            for user_id, items in by_user.items():
                notification_send(
                    recipients=[user_id],
                    kind="demand.escalated",
                    title=_("%(n)d 个融资需求超过 %(d)d 天无机构承接")
                    % {"n": len(items), "d": days},
                    body="\n".join(
                        _("#%(id)d %(e)s · %(a)s 元 · 发布于 %(t)s")
                        % {
                            "id": d.pk,
                            "e": d.entity.name,
                            "a": f"{d.amount:,.2f}",
                            "t": _local(d.created_at),
                        }
                        for d in items[:50]
                    ),
                    link=link,
                )

        transaction.on_commit(send)
    return len(stale)


# ---------------------------------------------------------------- loan applications
# Each transition of TRANSITIONS (lifecycle.py) is one service below. Every one locks the
# application row, checks the actor's side, role and organisation against the table, writes the
# new status and an ApplicationEvent (the timeline), and tells the other side after commit.

APPLICATION_PREFIX = "SQ"
DEFAULT_CONSENT_DAYS = 180
REFER_LIMIT = 5


def _application_number() -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    while True:
        number = f"{APPLICATION_PREFIX}{today}{secrets.token_hex(4).upper()}"
        if not LoanApplication.objects.filter(number=number).exists():
            return number


def _app_event(
    app: LoanApplication,
    *,
    kind: str,
    actor: User | None,
    from_status: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    via_api: bool = False,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=app,
        kind=kind,
        actor=actor,
        organisation_id=actor.organisation_id if actor is not None else None,
        via_api=via_api,
        from_status=from_status,
        to_status=app.status,
        note=note,
        data=data or {},
        created_at=timezone.now(),
    )


def _app_locked(app: LoanApplication) -> LoanApplication:
    return (
        LoanApplication.objects.select_for_update()
        .select_related("entity", "institution", "product", "product_version")
        .get(pk=app.pk)
    )


def application_can(*, app: LoanApplication, actor: User | None, action: str) -> bool:
    """Return whether ``actor`` may take ``action`` on ``app`` now (status, side, role, object)."""
    t = TRANSITIONS[action]
    if app.status not in t.sources:
        return False
    if actor is None:
        return t.system
    if t.side == ENTERPRISE:
        return (
            actor.group == OrgGroup.ENTERPRISE
            and actor.organisation_id is not None
            and actor.organisation_id == app.entity.organisation_id
            and bool(actor.role_codes & t.roles)
        )
    return (
        actor.group == OrgGroup.INSTITUTION
        and actor.organisation_id == app.institution_id
        and bool(actor.role_codes & t.roles)
    )


def _ensure_can(app: LoanApplication, actor: User | None, action: str) -> Transition:
    t = TRANSITIONS[action]
    if app.status not in t.sources:
        raise ConflictError(
            "invalid_transition",
            _("申请当前状态为“%(s)s”，不能执行“%(a)s”")
            % {"s": app.get_status_display(), "a": t.label},
            {"status": app.status, "action": action},
        )
    if not application_can(app=app, actor=actor, action=action):
        if t.side == ENTERPRISE:
            message = _("只有申请企业的企业主或经办人可以%(a)s") % {"a": t.label}
        else:
            roles = "、".join(str(Role(r).label) for r in sorted(t.roles))
            message = _("只有受理机构的%(r)s可以%(a)s") % {"r": roles, "a": t.label}
        raise PermissionDeniedError("forbidden", message, {"action": action})
    return t


def _notify_entity_app(app: LoanApplication, *, title: str, body: str = "") -> None:
    entity = app.entity
    _notify_after_commit(
        lambda: recipients.entity_users(entity=entity),
        kind="loan_application",
        title=title,
        body=body,
        link=reverse("marketplace:application_detail", args=[app.pk]),
        organisation_id=entity.organisation_id,
    )


def _notify_institution_app(app: LoanApplication, *, title: str, body: str = "") -> None:
    institution_id = app.institution_id

    def users() -> list[User]:
        return list(
            User.objects.filter(
                organisation_id=institution_id, is_active=True, api_key__isnull=True
            )
            .filter(roles__role__in=sorted(OFFICER_ROLES | REVIEWER_ROLES))
            .distinct()
        )

    _notify_after_commit(
        users,
        kind="loan_application",
        title=title,
        body=body,
        link=reverse("marketplace:application_detail", args=[app.pk]),
        organisation_id=institution_id,
    )


def _notify_after_commit(
    who: Any, *, kind: str, title: str, body: str, link: str, organisation_id: int | None
) -> None:
    def send() -> None:
        notification_send(
            recipients=who(),
            kind=kind,
            title=title,
            body=body,
            link=link,
            organisation_id=organisation_id,
        )

    transaction.on_commit(send)


def _deadline(start: dt.datetime, days: int) -> dt.datetime:
    return start + dt.timedelta(days=days)


def application_clean(
    *, version: ProductVersion, data: dict[str, Any]
) -> tuple[Decimal, int, str, str]:
    """Return amount, term, repayment method and purpose checked against the product's terms."""
    amount = _decimal(data, "amount", _("申请金额"))
    if not version.amount_min <= amount <= version.amount_max:
        raise ValidationError(
            {
                "amount": _("申请金额须在产品额度 %(lo)s–%(hi)s 元之间，实际为 %(v)s 元")
                % {"lo": version.amount_min, "hi": version.amount_max, "v": amount}
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
    _app_event(
        app,
        kind=ApplicationEventKind.SUBMITTED,
        actor=actor,
        from_status="",
        data={"version": version.number, "authorisation": authorisation.pk},
        note=_("同时授权%(i)s查询本企业信用信息（%(s)s，至 %(d)s）")
        % {
            "i": product.institution.name,
            "s": Scope(consent_scope).label,
            "d": timezone.localtime(authorisation.expires_at).date().isoformat(),
        },
    )
    _notify_institution_app(
        app,
        title=_("新的贷款申请：%(e)s 申请“%(p)s” %(a)s 元")
        % {"e": entity.name, "p": product.name, "a": amount},
    )
    return app


def _move(
    app: LoanApplication,
    *,
    action: str,
    actor: User | None,
    kind: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    via_api: bool = False,
    target: str | None = None,
    fields: tuple[str, ...] = (),
) -> LoanApplication:
    """Set the new status (the table's, or ``target``), save the named fields and record it."""
    before = app.status
    app.status = target or TRANSITIONS[action].target
    app.save(update_fields=["status", "updated_at", *fields])
    _app_event(
        app, kind=kind, actor=actor, from_status=before, note=note, data=data, via_api=via_api
    )
    return app


@transaction.atomic
def application_accept(
    *, application: LoanApplication, actor: User, note: str = "", via_api: bool = False
) -> LoanApplication:
    """Accept the application for review (受理); the decision's service-level timer starts."""
    app = _app_locked(application)
    _ensure_can(app, actor, "accept")
    now = timezone.now()
    app.accepted_at = now
    app.officer = actor
    app.sla_due_at = _deadline(now, app.product_version.days_to_decide)
    app.sla_breached_at = None
    _move(
        app,
        action="accept",
        actor=actor,
        kind=ApplicationEventKind.ACCEPTED,
        note=note,
        via_api=via_api,
        fields=("accepted_at", "officer", "sla_due_at", "sla_breached_at"),
    )
    _notify_entity_app(
        app,
        title=_("%(i)s 已受理您的贷款申请 %(n)s") % {"i": app.institution.name, "n": app.number},
    )
    return app


@transaction.atomic
def application_review_start(
    *, application: LoanApplication, actor: User, note: str = "", via_api: bool = False
) -> LoanApplication:
    """Hand the accepted application to the reviewers (进入审批)."""
    app = _app_locked(application)
    _ensure_can(app, actor, "review")
    return _move(
        app,
        action="review",
        actor=actor,
        kind=ApplicationEventKind.REVIEW_STARTED,
        note=note,
        via_api=via_api,
    )


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
    app = _app_locked(application)
    _ensure_can(app, actor, "approve")
    version = app.product_version
    errors: dict[str, str] = {}
    if not Decimal("0") < amount <= version.amount_max:
        errors["amount"] = _("批准金额须大于 0 且不超过产品最高额度 %(hi)s 元") % {
            "hi": version.amount_max
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
    _move(
        app,
        action="approve",
        actor=actor,
        kind=ApplicationEventKind.APPROVED,
        note=note,
        via_api=via_api,
        data={"amount": str(amount), "rate": str(rate), "term_months": term_months},
        fields=(
            "approved_amount",
            "approved_rate",
            "approved_term_months",
            "decided_at",
            "sla_due_at",
        ),
    )
    _notify_entity_app(
        app,
        title=_("您的贷款申请 %(n)s 已获批准") % {"n": app.number},
        body=_("批准金额 %(a)s 元，年利率 %(r)s%%，期限 %(t)s 个月")
        % {"a": amount, "r": rate, "t": term_months},
    )
    return app


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
    app = _app_locked(application)
    _ensure_can(app, actor, "reject")
    if reason not in RejectReason.values:
        raise ValidationError(
            {"reason": _("请选择拒绝原因，可选：%(c)s") % {"c": "、".join(RejectReason.values)}},
            code="invalid_choice",
        )
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请填写拒绝说明，企业会看到它")}, code="required")
    now = timezone.now()
    app.reject_reason = reason
    app.reject_note = note[:2000]
    app.decided_at = now
    app.closed_at = now
    app.sla_due_at = None
    _move(
        app,
        action="reject",
        actor=actor,
        kind=ApplicationEventKind.REJECTED,
        note=app.reject_note,
        via_api=via_api,
        data={"reason": reason},
        fields=("reject_reason", "reject_note", "decided_at", "closed_at", "sla_due_at"),
    )
    authorisation_end(authorisation=app.authorisation)
    _notify_entity_app(
        app,
        title=_("您的贷款申请 %(n)s 未获批准") % {"n": app.number},
        body=_("原因：%(r)s。可在申请详情页一键转介给其他匹配的机构。")
        % {"r": RejectReason(reason).label},
    )
    return app


@transaction.atomic
def application_withdraw(
    *, application: LoanApplication, actor: User, note: str = ""
) -> LoanApplication:
    """Withdraw before approval; the authorisation granted with it is revoked too."""
    app = _app_locked(application)
    _ensure_can(app, actor, "withdraw")
    app.closed_at = timezone.now()
    app.sla_due_at = None
    _move(
        app,
        action="withdraw",
        actor=actor,
        kind=ApplicationEventKind.WITHDRAWN,
        note=note,
        fields=("closed_at", "sla_due_at"),
    )
    authorisation_revoke(authorisation=app.authorisation, actor=actor)
    _notify_institution_app(app, title=_("贷款申请 %(n)s 已被企业撤回") % {"n": app.number})
    return app


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
    app = _app_locked(application)
    _ensure_can(app, actor, "sign")
    contract_no = (contract_no or "").strip()
    if not contract_no or len(contract_no) > 64:
        raise ValidationError({"contract_no": _("请填写合同编号（1–64 个字符）")}, code="required")
    day = signed_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"signed_on": _("签约日期不能晚于今天")}, code="future")
    app.contract_no = contract_no
    app.contract_signed_on = day
    _move(
        app,
        action="sign",
        actor=actor,
        kind=ApplicationEventKind.CONTRACT_SIGNED,
        via_api=via_api,
        data={"contract_no": contract_no, "signed_on": day.isoformat()},
        fields=("contract_no", "contract_signed_on"),
    )
    _notify_entity_app(app, title=_("贷款合同 %(c)s 已签订") % {"c": contract_no})
    return app


@transaction.atomic
def application_disburse(
    *,
    application: LoanApplication,
    actor: User,
    amount: Decimal,
    disbursed_on: dt.date | None = None,
    loan_no: str = "",
    via_api: bool = False,
) -> Loan:
    """Disburse the loan: create it with its repayment schedule, first-loan and renewal flags."""
    app = _app_locked(application)
    _ensure_can(app, actor, "disburse")
    assert app.approved_amount is not None and app.approved_rate is not None
    assert app.approved_term_months is not None
    if not Decimal("0") < amount <= app.approved_amount:
        raise ValidationError(
            {
                "amount": _("放款金额须大于 0 且不超过批准金额 %(a)s 元")
                % {"a": app.approved_amount}
            },
            code="out_of_range",
        )
    day = disbursed_on or timezone.localdate()
    if (app.contract_signed_on and day < app.contract_signed_on) or day > timezone.localdate():
        raise ValidationError(
            {"disbursed_on": _("放款日期须在签约日期之后且不晚于今天")}, code="out_of_range"
        )
    bank_no = (loan_no or "").strip()
    if len(bank_no) > 64:
        raise ValidationError({"loan_no": _("借据号不超过 64 个字符")}, code="max_length")
    own = Loan.objects.filter(institution_id=app.institution_id, bank_loan_no=bank_no)
    if bank_no and own.exists():
        raise ConflictError(
            "duplicate_loan_no",
            _("本机构已有借据号为 %(n)s 的贷款") % {"n": bank_no},
            {"field": "loan_no"},
        )
    if app.renewal_of_id is not None:
        _ensure_renewable(app, amount)
    # the entity's row is the lock that makes "no earlier loan" true for exactly one disbursement
    MarketEntity.objects.select_for_update().filter(pk=app.entity_id).first()
    earlier = Loan.objects.filter(entity_id=app.entity_id).exists()
    lines = schedule(
        principal=amount,
        annual_rate=app.approved_rate,
        term_months=app.approved_term_months,
        method=app.repayment_method,
        start=day,
    )
    try:
        with transaction.atomic():  # a savepoint: a concurrent equal 借据号 is a 409, not a 500
            loan = _loan_create(app, bank_no, amount, day, lines, first=not earlier)
    except IntegrityError as exc:
        raise ConflictError(
            "duplicate_loan_no",
            _("本机构已有借据号为 %(n)s 的贷款") % {"n": bank_no},
            {"field": "loan_no"},
        ) from exc
    _loan_fact(loan, event="disbursed", on=day, amount=amount)
    loan_watch_start(entity=app.entity, institution=app.institution, reference=loan.number)
    if app.demand_id is not None:
        _demand_close_funded(app, loan)
    if app.renewal_of_id is not None:
        _loan_roll_over(Loan(pk=app.renewal_of_id), by=loan, actor=actor, via_api=via_api)
    _move(
        app,
        action="disburse",
        actor=actor,
        kind=ApplicationEventKind.DISBURSED,
        via_api=via_api,
        data={"loan": loan.number, "amount": str(amount), "disbursed_on": day.isoformat()},
    )
    _notify_entity_app(
        app,
        title=_("贷款 %(n)s 已放款 %(a)s 元") % {"n": loan.number, "a": amount},
        body=_("首期还款日 %(d)s，到期日 %(m)s")
        % {"d": lines[0].due_on.isoformat(), "m": loan.maturity_on.isoformat()},
    )
    return loan


OVERDUE_MILESTONES = (1, 30, 60, 90)  # overdue days recorded as facts (M1, M2, M3 buckets)


def loan_event_row(
    loan: Loan, *, event: str, on: dt.date, amount: Decimal | None = None
) -> dict[str, Any]:
    """Return one loan event as datahub's platform loan row (see platform_loan_events_record)."""
    return {
        "uscc": loan.entity.uscc,
        "loan_no": loan.number,
        "institution": loan.institution.name,
        "event": event,
        "occurred_on": on,
        "amount": amount,
        "outstanding": loan.outstanding,
        "overdue_days": loan.overdue_days,
        "maturity_on": loan.maturity_on,
        "first_loan": loan.first_loan,
        "renewal": loan.renewal,
    }


def _loan_fact(loan: Loan, *, event: str, on: dt.date, amount: Decimal | None = None) -> None:
    """Record the event as a platform fact in the same transaction: credit scores loan history
    and trains on platform outcomes from these facts, and rescoring follows the batch."""
    platform_loan_events_record(
        rows=[loan_event_row(loan, event=event, on=on, amount=amount)],
        note=f"{loan.number} {event}",
    )


def _demand_close_funded(app: LoanApplication, loan: Loan) -> None:
    """Close the demand an application came from once it is funded: it leaves the hall."""
    demand = _demand_locked(Demand(pk=app.demand_id))
    if demand.status != DemandStatus.OPEN:
        return
    demand.status = DemandStatus.CLOSED
    demand.closed_at = timezone.now()
    demand.held_by, demand.held_until = None, None
    demand.save(update_fields=["status", "closed_at", "held_by", "held_until", "updated_at"])
    _demand_event(
        demand=demand,
        kind=DemandEventKind.CLOSED,
        organisation_id=loan.institution_id,
        note=_("已获%(i)s放款 %(a)s 元（贷款 %(n)s）")
        % {"i": app.institution.name, "a": loan.principal, "n": loan.number},
    )


def _loan_locked(loan: Loan) -> tuple[Loan, LoanApplication]:
    loan = Loan.objects.select_for_update().select_related("entity", "institution").get(pk=loan.pk)
    return loan, _app_locked(loan.application)


def _overdue_days(loan: Loan, today: dt.date) -> int:
    first_unpaid = (
        loan.instalments.filter(paid_on__isnull=True, due_on__lt=today)
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )
    return (today - first_unpaid).days if first_unpaid else 0


def _loan_create(
    app: LoanApplication,
    bank_no: str,
    amount: Decimal,
    day: dt.date,
    lines: list[Any],
    *,
    first: bool,
) -> Loan:
    """Write the loan and its schedule."""
    assert app.approved_rate is not None and app.approved_term_months is not None
    loan = Loan.objects.create(
        application=app,
        entity_id=app.entity_id,
        institution_id=app.institution_id,
        number=f"DK{app.number[len(APPLICATION_PREFIX) :]}",
        bank_loan_no=bank_no,
        principal=amount,
        annual_rate=app.approved_rate,
        term_months=app.approved_term_months,
        repayment_method=app.repayment_method,
        disbursed_on=day,
        maturity_on=lines[-1].due_on,
        first_loan=first,
        renewal=app.renewal_of_id is not None,
        outstanding=amount,
    )
    LoanInstalment.objects.bulk_create(
        LoanInstalment(
            loan=loan,
            seq=line.seq,
            due_on=line.due_on,
            principal_due=line.principal,
            interest_due=line.interest,
        )
        for line in lines
    )
    return loan


def _ensure_renewable(app: LoanApplication, amount: Decimal) -> None:
    """Check, with the old loan locked, that a renewal may still replace it: the loan is open,
    in good standing for 无还本续贷, and the new principal covers what is left of it."""
    assert app.renewal_of_id is not None
    old = Loan.objects.select_for_update().get(pk=app.renewal_of_id)
    if old.status not in (LoanStatus.CURRENT, LoanStatus.OVERDUE):
        raise ConflictError(
            "not_renewable",
            _("原贷款“%(n)s”已%(s)s，不能再以续贷结清")
            % {"n": old.number, "s": old.get_status_display()},
            {"field": "renewal_of"},
        )
    if app.without_principal_repayment and old.status != LoanStatus.CURRENT:
        raise ConflictError(
            "not_renewable",
            _("原贷款“%(n)s”已逾期，不能办理无还本续贷") % {"n": old.number},
            {"field": "renewal_of"},
        )
    if amount < old.outstanding:
        raise ValidationError(
            {
                "amount": _("续贷放款金额须不少于原贷款余额 %(o)s 元，实际为 %(a)s 元")
                % {"o": old.outstanding, "a": amount}
            },
            code="out_of_range",
        )


def _loan_roll_over(old: Loan, *, by: Loan, actor: User, via_api: bool) -> None:
    """Close the loan a renewal replaces: the new loan repays it (借新还旧) or, for 无还本续贷,
    carries its principal on; either way the old loan ends settled on the renewal's day."""
    old, app = _loan_locked(old)
    assert old.status in (LoanStatus.CURRENT, LoanStatus.OVERDUE)  # _ensure_renewable checked
    day = by.disbursed_on
    old.status, old.settled_on = LoanStatus.SETTLED, day
    old.outstanding, old.overdue_days = Decimal("0"), 0
    old.save(update_fields=["status", "settled_on", "outstanding", "overdue_days", "updated_at"])
    _loan_fact(old, event="settled", on=day)
    loan_watch_end(institution=old.institution, reference=old.number)
    app.closed_at = timezone.now()
    app.save(update_fields=["closed_at"])
    how = _("无还本续贷") if by.application.without_principal_repayment else _("借新还旧")
    _move(
        app,
        action="repay",
        actor=actor,
        kind=ApplicationEventKind.SETTLED,
        via_api=via_api,
        note=_("由续贷 %(n)s 结清（%(h)s）") % {"n": by.number, "h": how},
        data={"renewed_by": by.number},
        target=ApplicationStatus.SETTLED,
    )
    authorisation_end(authorisation=app.authorisation)


def _crossed(before: int, after: int) -> bool:
    """Whether overdue days went past one of the milestones recorded as facts."""
    return any(before < m <= after for m in OVERDUE_MILESTONES)


def _event_day(value: dt.date | None, loan: Loan, *, field: str) -> dt.date:
    """Return a loan event's date, which must lie between the disbursement and today."""
    day = value or timezone.localdate()
    if not loan.disbursed_on <= day <= timezone.localdate():
        raise ValidationError(
            {
                field: _("日期须在放款日期 %(d)s 与今天之间，实际为 %(v)s")
                % {"d": loan.disbursed_on.isoformat(), "v": day.isoformat()}
            },
            code="out_of_range",
        )
    return day


@transaction.atomic
def loan_repayment_record(
    *,
    loan: Loan,
    actor: User,
    amount: Decimal,
    paid_on: dt.date | None = None,
    via_api: bool = False,
) -> Repayment:
    """Record a repayment: it pays the oldest instalments first, interest before principal.

    What remains decides the status: nothing owed settles the loan; an instalment still past due
    leaves (or makes) it overdue; otherwise it is repaying. On a defaulted loan a repayment is a
    recovery: the loan stays in default until it is paid off.
    """
    loan, app = _loan_locked(loan)
    _ensure_can(app, actor, "repay")
    day = _event_day(paid_on, loan, field="paid_on")
    instalments = list(loan.instalments.filter(paid_on__isnull=True).order_by("seq"))
    owed = sum((i.due_left for i in instalments), Decimal("0"))
    if not Decimal("0") < amount <= owed:
        raise ValidationError(
            {"amount": _("还款金额须大于 0 且不超过尚欠本息 %(o)s 元") % {"o": owed}},
            code="out_of_range",
        )
    left = amount
    principal = interest = Decimal("0")
    for inst in instalments:
        if left <= 0:
            break
        pay_i = min(left, inst.interest_due - inst.interest_paid)
        inst.interest_paid += pay_i
        left -= pay_i
        pay_p = min(left, inst.principal_due - inst.principal_paid)
        inst.principal_paid += pay_p
        left -= pay_p
        interest += pay_i
        principal += pay_p
        if inst.due_left == 0:
            inst.paid_on = day
        inst.save(update_fields=["interest_paid", "principal_paid", "paid_on"])
    repayment = Repayment.objects.create(
        loan=loan,
        paid_on=day,
        amount=amount,
        principal=principal,
        interest=interest,
        recorded_by=actor,
    )
    loan.outstanding -= principal
    before = loan.overdue_days
    settled = not loan.instalments.filter(paid_on__isnull=True).exists()
    loan.overdue_days = 0 if settled else _overdue_days(loan, timezone.localdate())
    loan.max_overdue_days = max(loan.max_overdue_days, loan.overdue_days)
    if settled:
        loan.status, loan.settled_on = LoanStatus.SETTLED, day
        target = ApplicationStatus.SETTLED
    elif loan.status == LoanStatus.DEFAULTED:
        target = ApplicationStatus.DEFAULTED  # a recovery
    elif loan.overdue_days > 0:
        loan.status, target = LoanStatus.OVERDUE, ApplicationStatus.OVERDUE
    else:
        loan.status, target = LoanStatus.CURRENT, ApplicationStatus.REPAYING
    loan.save(
        update_fields=[
            "outstanding",
            "overdue_days",
            "max_overdue_days",
            "status",
            "settled_on",
            "updated_at",
        ]
    )
    data = {"amount": str(amount), "principal": str(principal), "interest": str(interest)}
    _loan_fact(loan, event="repaid", on=day, amount=amount)
    if loan.status == LoanStatus.OVERDUE and _crossed(before, loan.overdue_days):
        _loan_fact(loan, event="overdue", on=timezone.localdate())
    if settled:
        _loan_fact(loan, event="settled", on=day)
        loan_watch_end(institution=loan.institution, reference=loan.number)
        app.closed_at = timezone.now()
        app.save(update_fields=["closed_at"])
        authorisation_end(authorisation=app.authorisation)
    _move(
        app,
        action="repay",
        actor=actor,
        kind=ApplicationEventKind.SETTLED if settled else ApplicationEventKind.REPAID,
        via_api=via_api,
        data=data,
        target=target,
    )
    if settled:
        _notify_entity_app(app, title=_("贷款 %(n)s 已结清") % {"n": loan.number})
    return repayment


@transaction.atomic
def loan_overdue_mark(
    *, loan: Loan, actor: User | None, as_of: dt.date | None = None, via_api: bool = False
) -> Loan:
    """Mark a loan overdue because an instalment due before ``as_of`` (today by default, never
    later) is unpaid."""
    loan, app = _loan_locked(loan)
    _ensure_can(app, actor, "overdue")
    today = _event_day(as_of, loan, field="as_of")
    days = _overdue_days(loan, today)
    if days == 0:
        raise ConflictError("not_overdue", _("贷款 %(n)s 没有逾期未还的期次") % {"n": loan.number})
    loan.overdue_days = days
    loan.max_overdue_days = max(loan.max_overdue_days, days)
    loan.status = LoanStatus.OVERDUE
    loan.save(update_fields=["overdue_days", "max_overdue_days", "status", "updated_at"])
    _loan_fact(loan, event="overdue", on=today)
    _move(
        app,
        action="overdue",
        actor=actor,
        kind=ApplicationEventKind.OVERDUE,
        via_api=via_api,
        data={"overdue_days": days},
    )
    _notify_entity_app(
        app,
        title=_("贷款 %(n)s 已逾期 %(d)s 天，请尽快还款") % {"n": loan.number, "d": days},
    )
    return loan


@transaction.atomic
def loan_default_declare(
    *, loan: Loan, actor: User, note: str, on: dt.date | None = None, via_api: bool = False
) -> Loan:
    """Declare an overdue loan in default (the reviewer's decision, with a written reason)."""
    loan, app = _loan_locked(loan)
    _ensure_can(app, actor, "default")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请填写违约认定说明")}, code="required")
    loan.status = LoanStatus.DEFAULTED
    loan.defaulted_on = _event_day(on, loan, field="on")
    loan.save(update_fields=["status", "defaulted_on", "updated_at"])
    _loan_fact(loan, event="defaulted", on=loan.defaulted_on)
    app.closed_at = timezone.now()
    app.save(update_fields=["closed_at"])
    _move(
        app,
        action="default",
        actor=actor,
        kind=ApplicationEventKind.DEFAULTED,
        note=note,
        via_api=via_api,
        data={"outstanding": str(loan.outstanding), "overdue_days": loan.overdue_days},
    )
    _notify_entity_app(app, title=_("贷款 %(n)s 已被认定违约") % {"n": loan.number}, body=note)
    return loan


SWEEP_PART = 5_000  # loans per IN list of the overdue sweep


def loans_overdue_sweep(*, as_of: dt.date | None = None) -> int:
    """Mark loans with an unpaid past-due instalment overdue and keep their days current.

    One grouped query finds the late loans. A loan that just fell overdue moves its application
    (timeline event, notice, fact) one by one, and a failure there is logged and skipped, never
    stopping the sweep; loans already overdue get their days in one bulk update, and the 30/60/90
    day milestones they cross go to datahub as one platform batch. Returns how many loans became
    overdue.
    """
    today = as_of or timezone.localdate()
    late = dict(
        LoanInstalment.objects.filter(
            paid_on__isnull=True,
            due_on__lt=today,
            loan__status__in=(LoanStatus.CURRENT, LoanStatus.OVERDUE),
        )
        .values("loan_id")
        .annotate(first_due=Min("due_on"))
        .values_list("loan_id", "first_due")
    )
    newly = 0
    ids = sorted(late)
    for i in range(0, len(ids), SWEEP_PART):
        loans = list(
            Loan.objects.filter(pk__in=ids[i : i + SWEEP_PART]).select_related(
                "application", "entity", "institution"
            )
        )
        fresh = [
            loan for loan in loans if loan.application.status in TRANSITIONS["overdue"].sources
        ]
        for loan in fresh:
            try:
                loan_overdue_mark(loan=loan, actor=None, as_of=today)
                newly += 1
            except (ApplicationError, ValidationError):
                logger.exception("overdue sweep: loan %s skipped", loan.number)
        fresh_ids = {loan.pk for loan in fresh}
        _overdue_days_advance([loan.pk for loan in loans if loan.pk not in fresh_ids], late, today)
    return newly


@transaction.atomic
def _overdue_days_advance(ids: list[int], late: dict[int, dt.date], today: dt.date) -> None:
    """Advance the days of loans already overdue, re-read under lock (a repayment, settlement or
    default committed meanwhile is not overwritten); milestones go to datahub as one batch."""
    loans = list(
        Loan.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status=LoanStatus.OVERDUE)
        .select_related("entity", "institution")
    )
    rows = []
    stamp = timezone.now()
    for loan in loans:
        days = (today - late[loan.pk]).days
        crossed = _crossed(loan.overdue_days, days)
        loan.overdue_days = days
        loan.max_overdue_days = max(loan.max_overdue_days, days)
        loan.updated_at = stamp
        if crossed:
            rows.append(loan_event_row(loan, event="overdue", on=today))
    Loan.objects.bulk_update(loans, ["overdue_days", "max_overdue_days", "updated_at"])
    if rows:
        platform_loan_events_record(rows=rows, note=f"逾期天数 {today.isoformat()}")


def applications_sla_sweep(*, now: dt.datetime | None = None) -> int:
    """Flag applications whose acceptance or decision is past its service-level time limit.

    The late ones are flagged with one UPDATE and their timeline events written in one INSERT;
    each breach is recorded once, and both sides are told. Returns the count.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        apps = list(
            LoanApplication.objects.select_for_update(of=("self",))
            .filter(
                status__in=PENDING_STATUSES, sla_due_at__lt=moment, sla_breached_at__isnull=True
            )
            .select_related("entity", "institution")
        )
        if not apps:
            return 0
        LoanApplication.objects.filter(pk__in=[a.pk for a in apps]).update(
            sla_breached_at=moment, updated_at=timezone.now()
        )
        events = []
        for app in apps:
            stage = _("受理") if app.status == ApplicationStatus.SUBMITTED else _("审批")
            assert app.sla_due_at is not None
            due = timezone.localtime(app.sla_due_at).strftime("%Y-%m-%d %H:%M")
            events.append(
                ApplicationEvent(
                    application=app,
                    kind=ApplicationEventKind.SLA_BREACHED,
                    from_status=app.status,
                    to_status=app.status,
                    note=_("%(s)s超出产品承诺的服务时限（截止 %(d)s）") % {"s": stage, "d": due},
                    created_at=moment,
                )
            )
            title = _("贷款申请 %(n)s %(s)s已超时") % {"n": app.number, "s": stage}
            _notify_institution_app(app, title=title)
            _notify_entity_app(app, title=title)
        ApplicationEvent.objects.bulk_create(events)
    return len(apps)


@transaction.atomic
def application_refer(
    *, application: LoanApplication, actor: User, products: list[Product]
) -> list[LoanApplication]:
    """Pass a rejected application on to other institutions' products in one step (拒贷转介).

    Each new application copies amount, term, purpose and the consent scope of the original,
    grants the new institution its own authorisation and records where it came from.
    """
    app = _app_locked(application)
    _ensure_entity_user(actor, app.entity)
    if app.status != ApplicationStatus.REJECTED:
        raise ConflictError(
            "not_rejected", _("只有未获批准的申请可以转介给其他机构"), {"status": app.status}
        )
    chosen = [p for p in products if p.institution_id != app.institution_id]
    if not chosen:
        raise ValidationError({"products": _("请至少选择一个其他机构的产品")}, code="required")
    if len(chosen) > REFER_LIMIT:
        raise ValidationError(
            {"products": _("一次最多转介 %(n)s 个产品") % {"n": REFER_LIMIT}}, code="too_many"
        )
    auth = app.authorisation
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
                    consent_scope=auth.scope,
                    consent_categories=auth.categories,
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
    _app_event(
        app,
        kind=ApplicationEventKind.REFERRED,
        actor=actor,
        from_status=app.status,
        note=_("转介至：%(l)s")
        % {"l": "、".join(f"{a.institution.name}（{a.number}）" for a in new)},
        data={"applications": [a.number for a in new]},
    )
    return new


# ================================================================ capital-market reserve (issue 5)
# 上市挂牌后备库: the operator screens and adds enterprises; investors express interest; the
# enterprise accepts or declines. Every step writes a ReserveEvent (the entry's audit trail).

CASE_AMOUNT_MAX = Decimal("100000000000")  # 1,000 亿元
INVESTOR_ROLES = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)


def _ensure_reserve_operator(user: User, action: str) -> None:
    if not permissions.can(user, "marketplace.reserve_manage"):
        raise PermissionDeniedError("forbidden", _("只有平台运营管理员可以%(a)s") % {"a": action})


def _reserve_event(
    candidate: ReserveCandidate, *, kind: str, actor: User | None, note: str = ""
) -> ReserveEvent:
    return ReserveEvent.objects.create(
        candidate=candidate,
        kind=kind,
        actor=actor,
        organisation_id=actor.organisation_id if actor is not None else None,
        note=note,
        created_at=timezone.now(),
    )


def _reserve_link() -> str:
    return reverse("marketplace:capital_market")


def _notify_entity_reserve(candidate: ReserveCandidate, *, title: str, body: str = "") -> None:
    entity = candidate.entity
    _notify_after_commit(
        lambda: recipients.entity_users(entity=entity),
        kind="capital_market",
        title=title,
        body=body,
        link=_reserve_link(),
        organisation_id=entity.organisation_id,
    )


def _notify_investor(interest: InvestorInterest, *, title: str, body: str = "") -> None:
    investor_id = interest.investor_id

    def users() -> list[User]:
        return list(
            User.objects.filter(organisation_id=investor_id, is_active=True, api_key__isnull=True)
        )

    _notify_after_commit(
        users,
        kind="capital_market",
        title=title,
        body=body,
        link=reverse("marketplace:reserve_detail", args=[interest.candidate_id]),
        organisation_id=investor_id,
    )


@transaction.atomic
def reserve_add(
    *, actor: User, entity: MarketEntity, criteria: dict[str, Any], note: str = ""
) -> ReserveCandidate:
    """Add an enterprise to the reserve database with a snapshot of the criteria and its
    indicators at the time; an entry that was removed is re-activated."""
    _ensure_reserve_operator(actor, _("将企业纳入上市挂牌后备库"))
    entity = MarketEntity.objects.select_for_update().get(pk=entity.pk)
    if entity.registration_status != "active":
        raise ConflictError(
            "not_active",
            _("%(n)s的登记状态为“%(s)s”，只有存续企业可以入库")
            % {"n": entity.name, "s": entity.get_registration_status_display()},
        )
    metrics = reserve_metrics(entity_ids=[entity.pk])[entity.pk]
    snapshot = {
        "criteria": dict(criteria),
        "metrics": metrics.as_dict(),
        "as_of": timezone.localdate().isoformat(),
    }
    note = (note or "").strip()[:2000]
    candidate = ReserveCandidate.objects.filter(entity=entity).first()
    if candidate is not None and candidate.status != ReserveStatus.REMOVED:
        raise ConflictError(
            "already_reserved",
            _("%(n)s已在上市挂牌后备库中（%(s)s）")
            % {"n": entity.name, "s": candidate.get_status_display()},
        )
    if candidate is None:
        candidate = ReserveCandidate(entity=entity)
    candidate.added_by = actor
    candidate.criteria = snapshot
    candidate.status = ReserveStatus.ACTIVE
    candidate.note = note
    candidate.full_clean()
    candidate.save()
    _reserve_event(candidate, kind=ReserveEventKind.ADDED, actor=actor, note=note)
    _notify_entity_reserve(
        candidate,
        title=_("贵企业已纳入上市挂牌后备库"),
        body=_(
            "投资机构可在后备库中看到贵企业的公开登记信息并表达投资意向，由贵企业决定是否接受。"
        ),
    )
    return candidate


@transaction.atomic
def reserve_close(
    *, actor: User, candidate: ReserveCandidate, status: str, note: str
) -> ReserveCandidate:
    """End an active reserve entry: the enterprise went public or was listed (上市挂牌), or it
    leaves the reserve (移出, e.g. it no longer meets the criteria). Pending investor interests
    are declined; a removed entry may be added again later."""
    _ensure_reserve_operator(actor, _("变更后备库企业状态"))
    candidate = (
        ReserveCandidate.objects.select_for_update().select_related("entity").get(pk=candidate.pk)
    )
    if status not in (ReserveStatus.LISTED, ReserveStatus.REMOVED):
        raise ValidationError(
            {"status": _("状态只能为“已上市挂牌”或“已移出”")}, code="invalid_choice"
        )
    if candidate.status != ReserveStatus.ACTIVE:
        raise ConflictError(
            "not_active",
            _("该企业在后备库中的状态为“%(s)s”，不能再变更")
            % {"s": candidate.get_status_display()},
        )
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("请填写说明（如挂牌市场与日期，或移出原因）")}, code="required"
        )
    candidate.status = status
    candidate.note = note[:2000]
    candidate.save(update_fields=["status", "note", "updated_at"])
    pending = list(
        InvestorInterest.objects.filter(candidate=candidate, status=InterestStatus.PENDING)
    )
    closed = _("企业已不在后备库培育中，意向自动关闭")
    InvestorInterest.objects.filter(pk__in=[i.pk for i in pending]).update(
        status=InterestStatus.DECLINED,
        responded_at=timezone.now(),
        response_note=closed,
        updated_at=timezone.now(),
    )
    for interest in pending:
        _notify_investor(
            interest,
            title=_("您对%(e)s的投资意向已关闭") % {"e": candidate.entity.name},
            body=closed,
        )
    kind = ReserveEventKind.LISTED if status == ReserveStatus.LISTED else ReserveEventKind.REMOVED
    _reserve_event(candidate, kind=kind, actor=actor, note=candidate.note)
    _notify_entity_reserve(
        candidate,
        title=_("贵企业在上市挂牌后备库中的状态已变更为“%(s)s”")
        % {"s": candidate.get_status_display()},
        body=candidate.note,
    )
    return candidate


@transaction.atomic
def reserve_intro_update(
    *, actor: User, candidate: ReserveCandidate, intro: str
) -> ReserveCandidate:
    """Set what the enterprise chooses to show investors beside its registry information."""
    candidate = (
        ReserveCandidate.objects.select_for_update().select_related("entity").get(pk=candidate.pk)
    )
    _ensure_reserve_enterprise(actor, candidate)
    intro = (intro or "").strip()
    if len(intro) > 2000:
        raise ValidationError({"intro": _("展示信息不超过 2000 字")}, code="invalid")
    candidate.intro = intro
    candidate.save(update_fields=["intro", "updated_at"])
    _reserve_event(candidate, kind=ReserveEventKind.INTRO, actor=actor)
    return candidate


def _ensure_reserve_enterprise(user: User, candidate: ReserveCandidate) -> None:
    try:
        _ensure_entity_user(user, candidate.entity)
    except PermissionDeniedError:
        raise PermissionDeniedError(
            "forbidden", _("只有该企业的企业主或经办人可以管理其后备库信息和投资意向")
        ) from None


@transaction.atomic
def interest_express(
    *, actor: User, candidate: ReserveCandidate, note: str = ""
) -> InvestorInterest:
    """An investor expresses interest in a reserve enterprise; the enterprise is told."""
    org = actor.organisation
    if org is None or org.kind != OrgKind.INVESTOR or not org.is_active:
        raise PermissionDeniedError("forbidden", _("只有投资机构可以表达投资意向"))
    permissions.require(
        actor,
        "marketplace.reserve_interest",
        message=_("只有投资机构的机构管理员或客户经理可以表达投资意向"),
    )
    candidate = (
        ReserveCandidate.objects.select_for_update().select_related("entity").get(pk=candidate.pk)
    )
    if candidate.status != ReserveStatus.ACTIVE:
        raise ConflictError(
            "not_active",
            _("该企业当前状态为“%(s)s”，不接受投资意向") % {"s": candidate.get_status_display()},
        )
    if candidate.interests.filter(investor=org, status=InterestStatus.PENDING).exists():
        raise ConflictError(
            "already_pending", _("本机构对该企业已有待回复的投资意向，请等待企业回复")
        )
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": _("意向说明不超过 1000 字")}, code="invalid")
    interest = InvestorInterest(investor=org, candidate=candidate, note=note, created_by=actor)
    interest.full_clean()
    interest.save()
    _reserve_event(
        candidate, kind=ReserveEventKind.INTEREST, actor=actor, note=f"{org.name}：{note}"
    )
    _notify_entity_reserve(
        candidate,
        title=_("%(i)s对贵企业表达了投资意向") % {"i": org.name},
        body=note,
    )
    return interest


@transaction.atomic
def interest_respond(
    *, actor: User, interest: InvestorInterest, accept: bool, note: str = ""
) -> InvestorInterest:
    """The enterprise accepts or declines an investor's pending interest; the investor is told."""
    interest = (
        InvestorInterest.objects.select_for_update()
        .select_related("candidate__entity", "investor")
        .get(pk=interest.pk)
    )
    _ensure_reserve_enterprise(actor, interest.candidate)
    if interest.status != InterestStatus.PENDING:
        raise ConflictError(
            "not_pending",
            _("该投资意向已处理（%(s)s），不能重复回复") % {"s": interest.get_status_display()},
        )
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": _("回复说明不超过 1000 字")}, code="invalid")
    interest.status = InterestStatus.ACCEPTED if accept else InterestStatus.DECLINED
    interest.responded_by = actor
    interest.responded_at = timezone.now()
    interest.response_note = note
    interest.save(
        update_fields=["status", "responded_by", "responded_at", "response_note", "updated_at"]
    )
    _reserve_event(
        interest.candidate,
        kind=ReserveEventKind.ACCEPTED if accept else ReserveEventKind.DECLINED,
        actor=actor,
        note=f"{interest.investor.name}：{note}",
    )
    entity = interest.candidate.entity
    _notify_investor(
        interest,
        title=(_("%(e)s接受了贵机构的投资意向") if accept else _("%(e)s婉拒了贵机构的投资意向"))
        % {"e": entity.name},
        body=note,
    )
    return interest


def financing_case_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Return normalised case fields, or raise ValidationError naming the field in Chinese."""
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 120:
        raise ValidationError({"title": _("案例标题必填，不超过 120 字")}, code="invalid")
    case_type = str(data.get("case_type") or "").strip()
    if case_type not in FinancingCaseType.values:
        raise ValidationError(
            {
                "case_type": _("融资方式“%(v)s”无效，可选：%(a)s")
                % {"v": case_type, "a": "、".join(FinancingCaseType.values)}
            },
            code="invalid_choice",
        )
    amount = _decimal(data, "amount", _("融资金额"))
    if not Decimal("0") < amount <= CASE_AMOUNT_MAX or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(
            {"amount": _("融资金额应大于 0 元、不超过 1000 亿元，最多两位小数")},
            code="out_of_range",
        )
    occurred_on = data.get("occurred_on")
    if not isinstance(occurred_on, dt.date):
        try:
            occurred_on = dt.date.fromisoformat(str(occurred_on or ""))
        except ValueError:
            raise ValidationError(
                {"occurred_on": _("融资日期格式应为 YYYY-MM-DD")}, code="invalid"
            ) from None
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("融资日期不能晚于今天")}, code="out_of_range")
    investor = data.get("investor")
    if investor is not None and (
        not isinstance(investor, Organisation) or investor.group != OrgGroup.INSTITUTION
    ):
        raise ValidationError({"investor": _("投资机构须为平台上的金融或投资机构")})
    entity = data.get("entity")
    if entity is not None and not isinstance(entity, MarketEntity):
        raise ValidationError({"entity": _("融资企业不存在")})
    counterparty = str(data.get("counterparty") or "").strip()
    description = str(data.get("description") or "").strip()
    if len(counterparty) > 200 or len(description) > 5000:
        raise ValidationError(
            {"description": _("投资方不超过 200 字，案例介绍不超过 5000 字")}, code="invalid"
        )
    return {
        "title": title,
        "case_type": case_type,
        "amount": amount,
        "occurred_on": occurred_on,
        "investor": investor,
        "entity": entity,
        "counterparty": counterparty,
        "description": description,
    }


@transaction.atomic
def financing_case_record(*, actor: User, data: dict[str, Any]) -> DirectFinancingCase:
    """Record a direct-financing case (equity, bond, listing, 新三板, regional equity market)."""
    _ensure_reserve_operator(actor, _("登记直接融资案例"))
    case = DirectFinancingCase(recorded_by=actor, **financing_case_clean(data))
    case.full_clean()
    case.save()
    return case
