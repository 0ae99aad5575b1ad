"""Permissions of the 甘霖 grid programme.

A field officer (网格员, bank staff or a community worker) records its own visits and builds the
credit file of a merchant who consented. The officer's institution administrator sees its own
officers' visits and gap report; the operator sees its region's visits (a sub-station: its region
only); government departments see the gap report and the loans issued under the programme in
their region, not the single visit records.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    in_region,
    is_central_operator_staff,
    is_department,
    is_field_officer,
    is_institution_admin,
    is_operator_staff,
    object_rule,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.insight.models import GridVisit, MerchantFile


def _visit(obj: Any) -> Any:
    return obj.visit if isinstance(obj, MerchantFile) else obj


@object_rule
def own_visit(user: Any, obj: Any) -> bool:
    """The visit (or the file built from it) was recorded by the user."""
    return bool(_visit(obj).officer_id == user.pk)


@object_rule
def own_organisation_visit(user: Any, obj: Any) -> bool:
    """The visit was recorded by an officer of the user's organisation."""
    return user.organisation_id is not None and _visit(obj).organisation_id == user.organisation_id


@object_rule
def visit_in_region(user: Any, obj: Any) -> bool:
    return in_region(user, _visit(obj).division_code)


@object_rule
def consenting_without_file(user: Any, obj: Any) -> bool:
    """The merchant consented and no file has been built from the visit yet."""
    visit = _visit(obj)
    return bool(visit.consent) and not MerchantFile.objects.filter(visit_id=visit.pk).exists()


overseer = is_operator_staff | is_department

declare(
    "insight.grid_visit_record",
    is_field_officer,
    label=_("登记网格走访"),
    objects=_("网格员：本人走访的商户"),
)
# A visit record (the merchant's name, address, what the owner said) is the officer's working
# record: its institution and the operator read it; departments read the figures (the report).
declare(
    "insight.grid_visits_view",
    (is_field_officer & own_visit)
    | (is_institution_admin & own_organisation_visit)
    | (is_operator_staff & visit_in_region),
    label=_("查看网格走访"),
    objects=_("网格员：本人的走访；机构管理员：本机构网格员的走访；运营方：本区划的走访"),
)
declare(
    "insight.grid_file_build",
    is_field_officer & own_visit & consenting_without_file,
    label=_("为走访商户建立信用档案"),
    objects=_("网格员：本人走访、商户已同意且尚未建档的"),
)
declare(
    "insight.grid_report_view",
    is_field_officer | is_institution_admin | overseer,
    label=_("查看走访建档缺口"),
    objects=_("网格员：本人；机构管理员：本机构；政府部门、运营方：本区划"),
)
declare(
    "insight.grid_loans_view",
    overseer,
    label=_("查看甘霖工程贷款"),
    objects=_("政府部门、运营方：本区划建档商户在走访后获得的贷款"),
)


def _visit_scope(user: Any, prefix: str) -> Q | None:
    if is_central_operator_staff(user):
        return Q()
    if overseer(user):
        return region_q(user, f"{prefix}division_code")
    if is_institution_admin(user):
        return Q(**{f"{prefix}organisation_id": user.organisation_id})
    if is_field_officer(user):
        return Q(**{f"{prefix}officer_id": user.pk})
    return None


@register_scope(GridVisit)
def _grid_visit_scope(user: Any) -> Q | None:
    """An officer sees its own visits; its institution's admin the institution's; departments and
    the operator their region's (the central operator all)."""
    return _visit_scope(user, "")


@register_scope(MerchantFile)
def _merchant_file_scope(user: Any) -> Q | None:
    """The same as the visits the files were built from."""
    return _visit_scope(user, "visit__")
