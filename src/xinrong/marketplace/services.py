"""Writes of the product supermarket: one service per workflow transition.

Versioning: a product's terms live in ``ProductVersion`` rows. A version is editable only while it
is a draft. Editing a product that has no draft (it is published, in review is refused, or
withdrawn) creates a new draft version numbered one higher; the published version stays live and
unchanged until the operator approves the new one, which then supersedes it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgGroup, OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.credit.recipients import entity_users, operator_users
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace import selectors
from xinrong.marketplace.choices import (
    GUARANTEE_KINDS,
    PRODUCT_KINDS,
    TAX_GRADES,
    CollateralMode,
    DemandEventKind,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
    EventKind,
    ProductStatus,
    ProductType,
    RepaymentMethod,
    VersionStatus,
)
from xinrong.marketplace.models import Demand, DemandEvent, Product, ProductEvent, ProductVersion
from xinrong.notifications.services import notification_send
from xinrong.reference import divisions, industries

GRADES = tuple(g for g, _floor in DEFAULT_BANDS)
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


def is_operator(user: User) -> bool:
    return user.is_superuser or (
        user.organisation is not None
        and user.organisation.kind == OrgKind.OPERATOR
        and user.has_role(Role.OPERATOR_ADMIN)
    )


def _ensure_institution_user(user: User, institution: Organisation) -> None:
    if user.group != OrgGroup.INSTITUTION or not user.has_role(*INSTITUTION_ROLES):
        raise PermissionDeniedError(
            "forbidden", _("只有金融机构的机构管理员或客户经理可以维护产品")
        )
    if user.organisation_id != institution.pk:
        raise PermissionDeniedError("forbidden", _("只能维护本机构的产品"))


def _ensure_operator(user: User) -> None:
    if not is_operator(user):
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
    if (
        user.group != OrgGroup.ENTERPRISE
        or user.organisation_id is None
        or user.organisation_id != entity.organisation_id
        or not user.has_role(*ENTERPRISE_ROLES)
    ):
        raise PermissionDeniedError(
            "forbidden", _("只有该企业的企业主或经办人可以发布或撤回其融资需求")
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
