"""Writes of the product supermarket: one service per workflow transition.

Versioning: a product's terms live in ``ProductVersion`` rows. A version is editable only while it
is a draft. Editing a product that has no draft (it is published, in review is refused, or
withdrawn) creates a new draft version numbered one higher; the published version stays live and
unchanged until the operator approves the new one, which then supersedes it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.marketplace.choices import (
    GUARANTEE_KINDS,
    PRODUCT_KINDS,
    EventKind,
    ProductStatus,
    ProductType,
    VersionStatus,
)
from xinrong.marketplace.inputs import ProductTermsIn
from xinrong.marketplace.models import Product, ProductVersion
from xinrong.marketplace.workflows import PRODUCT
from xinrong.reference import divisions
from xinrong.workflows.kernel import event_record, transition_apply

logger = logging.getLogger(__name__)
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
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


def region_index(regions: list[str]) -> str:
    """Return the search key of a region list: every region's descendants prefix, bar-delimited."""
    if not regions:
        return ""
    return "|" + "|".join(divisions.descendants_prefix(r) for r in regions) + "|"


def tag_index(tags: list[str]) -> str:
    """Return the search key of a tag list."""
    return "|" + "|".join(tags) + "|" if tags else ""


def _apply_terms(version: ProductVersion, terms_in: ProductTermsIn) -> None:
    terms = terms_in.as_terms()
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


def _locked(product: Product) -> Product:
    return Product.objects.select_for_update().select_related("institution").get(pk=product.pk)


def _version_locked(pk: int | None) -> ProductVersion | None:
    return ProductVersion.objects.select_for_update().get(pk=pk) if pk else None


def _in_review(product: Product, ctx: Any = None) -> ProductVersion:
    """Guard: the product has a version waiting for review; return it (locked)."""
    draft = _version_locked(product.draft_version_id)
    if draft is None or draft.status != VersionStatus.IN_REVIEW:
        raise ConflictError("not_in_review", _("该产品没有待审核的版本"))
    return draft


def _move(
    product: Product,
    action: str,
    *,
    actor: User,
    note: str = "",
    version: ProductVersion | None = None,
    update: Any = None,
) -> Product:
    """Take a product action on the kernel; a live product's version actions keep it live."""
    if product.status == ProductStatus.PUBLISHED and action in ("submit", "approve", "return"):
        action = f"{action}_version"
    result = transition_apply(
        PRODUCT,
        product,
        action,
        actor=actor,
        note=note[:2000],
        update=update,
        event_fields={"version": version},
    )
    moved: Product = result.obj
    return moved


# ---------------------------------------------------------------- transitions


@transaction.atomic
def product_create(*, actor: User, code: str, name: str, terms: ProductTermsIn) -> Product:
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
    _ensure_kind_offers(institution, terms.product_type)
    product = Product(institution=institution, code=code, name=name)
    product.full_clean(exclude=["current_version", "draft_version"])
    product.save()
    version = ProductVersion(product=product, number=1, created_by=actor)
    _apply_terms(version, terms)
    version.full_clean()
    version.save()
    product.draft_version = version
    product.save(update_fields=["draft_version", "updated_at"])
    event_record(
        PRODUCT,
        product,
        EventKind.CREATED,
        actor=actor,
        created=True,
        event_fields={"version": version},
    )
    return product


@transaction.atomic
def product_update(
    *, product: Product, actor: User, name: str | None = None, terms: ProductTermsIn
) -> ProductVersion:
    """Change a product's terms: edit its draft, or open a new draft version of a live product."""
    product = _locked(product)
    _ensure_institution_user(actor, product.institution)
    PRODUCT.check(actor, product, "edit")
    _ensure_kind_offers(product.institution, terms.product_type)
    draft = _version_locked(product.draft_version_id)
    if draft is not None and draft.status == VersionStatus.IN_REVIEW:
        raise ConflictError(
            "in_review", _("产品条款正在审核中，不能修改；请等待审核结果或由运营方退回")
        )
    if draft is None:
        number = (product.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = ProductVersion(product=product, number=number, created_by=actor)
    _apply_terms(draft, terms)
    draft.full_clean()
    draft.save()
    new_name = (name or "").strip()
    if new_name and new_name != product.name and not 2 <= len(new_name) <= 100:
        raise ValidationError({"name": _("产品名称应为 2–100 个字")}, code="invalid")

    def update(locked: Product) -> None:
        locked.draft_version = draft
        if new_name:
            locked.name = new_name

    _move(
        product,
        "edit",
        actor=actor,
        version=draft,
        note=_("第 %(n)s 版条款") % {"n": draft.number},
        update=update,
    )
    return draft


@transaction.atomic
def product_submit(*, product: Product, actor: User, note: str = "") -> Product:
    """Send the product's draft version to the platform operator for review."""
    product = _locked(product)
    _ensure_institution_user(actor, product.institution)
    if not product.draft_version_id:
        raise ConflictError("no_draft", _("没有待提交的草稿版本；请先修改条款"))
    draft = _version_locked(product.draft_version_id)
    assert draft is not None
    if draft.status != VersionStatus.DRAFT:
        raise ConflictError("in_review", _("该版本已提交审核，请勿重复提交"))

    def update(locked: Product) -> None:
        draft.status = VersionStatus.IN_REVIEW
        draft.submitted_at = timezone.now()
        draft.save(update_fields=["status", "submitted_at", "updated_at"])

    return _move(product, "submit", actor=actor, note=note.strip(), version=draft, update=update)


@transaction.atomic
def product_approve(*, product: Product, actor: User, note: str = "") -> Product:
    """Publish the version under review; the previously live version is superseded."""
    _ensure_operator(actor)
    product = _locked(product)
    draft = _in_review(product)

    def update(locked: Product) -> None:
        now = timezone.now()
        if locked.current_version_id:
            ProductVersion.objects.filter(pk=locked.current_version_id).update(
                status=VersionStatus.SUPERSEDED, updated_at=now
            )
        draft.status = VersionStatus.PUBLISHED
        draft.published_at = now
        draft.save(update_fields=["status", "published_at", "updated_at"])
        locked.current_version = draft
        locked.draft_version = None
        locked.published_at = locked.published_at or now

    return _move(product, "approve", actor=actor, note=note.strip(), version=draft, update=update)


@transaction.atomic
def product_return(*, product: Product, actor: User, reason: str) -> Product:
    """Send the version under review back to the institution with a reason."""
    _ensure_operator(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("退回时必须填写原因")}, code="required")
    product = _locked(product)
    draft = _in_review(product)

    def update(locked: Product) -> None:
        draft.status = VersionStatus.DRAFT
        draft.save(update_fields=["status", "updated_at"])

    return _move(product, "return", actor=actor, note=reason, version=draft, update=update)


@transaction.atomic
def product_withdraw(*, product: Product, actor: User, note: str = "") -> Product:
    """Take a published product off the supermarket (the institution's decision)."""
    product = _locked(product)
    _ensure_institution_user(actor, product.institution)
    return _move(
        product, "withdraw", actor=actor, note=note.strip(), version=product.current_version
    )
