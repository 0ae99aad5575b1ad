"""Reads the marketplace's selector modules share: the user's enterprise, published products,
who sees credit grades, and query-parameter parsers for grades and regions."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import (
    is_central_operator_staff,
    is_enterprise_user,
    is_substation_staff,
)
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import ProductStatus
from xinrong.marketplace.models import Product
from xinrong.marketplace.rules import product_institution
from xinrong.reference import divisions


def _published() -> QuerySet[Product]:
    return Product.objects.filter(
        status=ProductStatus.PUBLISHED, current_version__isnull=False
    ).select_related("institution", "current_version")


def user_entity(*, user: User) -> MarketEntity | None:
    """Return the market entity an enterprise user acts for, if any."""
    if not is_enterprise_user.test(user) or user.organisation_id is None:
        return None
    return MarketEntity.objects.filter(organisation_id=user.organisation_id).first()


# ================================================================ columns and the reserve (issue 5)
# Credit grades are non-public: only the operator (a sub-station for its region) sees or filters by
# them; institutions and investors see registry information only.

GRADE_NAMES = tuple(g for g, _floor in DEFAULT_BANDS)  # best first


def sees_grades(user: User) -> bool:
    """Return whether the user may see credit grades of any entity (the operator's side)."""
    return is_central_operator_staff(user) or is_substation_staff(user)


def _grades_from(grade: str) -> list[str]:
    """Return the grade names at least as good as ``grade``."""
    return list(GRADE_NAMES[: GRADE_NAMES.index(grade) + 1])


def _grade_param(data: Mapping[str, object], name: str, *, default: str = "") -> str:
    raw = str(data.get(name) or default).strip().upper()
    if raw and raw not in GRADE_NAMES:
        raise ValidationError(
            {name: _("信用等级“%(v)s”无效，可选：%(a)s") % {"v": raw, "a": "、".join(GRADE_NAMES)}},
            code="invalid_choice",
        )
    return raw


def _region_param(data: Mapping[str, object], name: str = "region") -> str:
    raw = str(data.get(name) or "").strip()
    if not raw:
        return ""
    division = divisions.get(raw) if "\x00" not in raw else None
    if division is None:
        raise ValidationError({name: _("行政区划代码“%(c)s”不存在") % {"c": raw[:12]}})
    return division.code


def is_lender_side(user: User) -> bool:
    """Return whether the user works for an institution that offers products (lender/guarantor)."""
    return bool(product_institution.test(user))
