"""Writes of the 甘霖 grid programme: a field officer's visit and the merchant credit file built
from a consenting visit (the merchant registered as an individual business when it is new)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import is_field_officer, require
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.enterprises import services as entity_services
from xinrong.enterprises.models import MarketEntity
from xinrong.insight.models import GridVisit, MerchantFile, RefusalReason, VisitResult
from xinrong.reference import divisions
from xinrong.reference import uscc as uscc_codec

# The industry an individual business is registered under when the officer does not know it:
# 其他未列明零售业 (GB/T 4754-2017 F5299), what most door-to-door shops are.
DEFAULT_INDUSTRY = "5299"
VILLAGE_LEVEL = 5


@dataclass(frozen=True)
class VisitIn:
    """What a field officer records about one visit."""

    visited_on: dt.date
    merchant_name: str
    division_code: str
    result: str
    uscc: str = ""
    address: str = ""
    consent: bool = False
    refusal_reason: str = ""
    refusal_note: str = ""


def visit_errors(visit_in: VisitIn, today: dt.date) -> tuple[dict[str, list[str]], str]:
    """Every broken rule of a visit at once (field → messages) and the normalised USCC."""
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not visit_in.merchant_name.strip():
        err("merchant_name", _("商户名称：必填"))
    if visit_in.visited_on > today:
        err("visited_on", _("走访日期：不能晚于今天（%(today)s）") % {"today": today.isoformat()})
    division = divisions.get(visit_in.division_code)
    if division is None or division.level != VILLAGE_LEVEL:
        err("division_code", _("社区/村：请选择到社区或村一级"))
    code = ""
    if visit_in.uscc.strip():
        try:
            code = uscc_codec.parse(visit_in.uscc.strip()).code
        except ValidationError as exc:
            err("uscc", _("统一社会信用代码：") + "；".join(exc.messages))
    if visit_in.result not in VisitResult.values:
        err("result", _("走访结果：请选择"))
    if visit_in.result == VisitResult.INTENT:
        if visit_in.refusal_reason:
            err("refusal_reason", _("未建档原因：有建档意向时不填"))
    elif visit_in.result in VisitResult.values:
        if visit_in.consent:
            err("consent", _("同意建档：只有“已建档意向”的商户可以同意建档"))
        if visit_in.refusal_reason not in RefusalReason.values:
            err("refusal_reason", _("未建档原因：拒绝或未遇到时必选"))
        elif visit_in.refusal_reason == RefusalReason.OTHER and not visit_in.refusal_note.strip():
            err("refusal_note", _("原因说明：选择“其他”时必填"))
    return errors, code


@transaction.atomic
def grid_visit_record(*, officer: User, visit_in: VisitIn) -> GridVisit:
    """Record one door-to-door visit of ``officer`` (every broken rule reported at once)."""
    require(officer, "insight.grid_visit_record", message=_("只有网格员可以登记走访"))
    errors, code = visit_errors(visit_in, timezone.localdate())
    if errors:
        raise ValidationError(errors)
    consent = visit_in.result == VisitResult.INTENT and visit_in.consent
    assert officer.organisation_id is not None  # a field officer belongs to a bank or community
    visit = GridVisit(
        officer=officer,
        organisation_id=officer.organisation_id,
        visited_on=visit_in.visited_on,
        merchant_name=visit_in.merchant_name.strip(),
        uscc=code,
        division_code=divisions.normalize_code(visit_in.division_code),
        address=visit_in.address.strip(),
        result=visit_in.result,
        consent=consent,
        consent_at=timezone.now() if consent else None,
        refusal_reason="" if visit_in.result == VisitResult.INTENT else visit_in.refusal_reason,
        refusal_note=visit_in.refusal_note.strip()
        if visit_in.refusal_reason == RefusalReason.OTHER
        else "",
    )
    visit.full_clean()
    visit.save()
    return visit


@transaction.atomic
def merchant_file_build(
    *, officer: User, visit: GridVisit, uscc: str = "", industry_code: str = ""
) -> MerchantFile:
    """Build the credit file of a consenting visit: link the registered entity with the USCC,
    or register the merchant as a new individual business, and mark the file built."""
    visit = GridVisit.objects.select_for_update().get(pk=visit.pk)
    if not is_field_officer(officer) or visit.officer.pk != officer.pk:
        raise PermissionDeniedError(
            "not_own_visit", _("只有登记这次走访的网格员可以为商户建档"), status=403
        )
    if MerchantFile.objects.filter(visit=visit).exists():
        raise ConflictError("file_exists", _("这次走访的商户已经建档"), {"field": "uscc"})
    if not visit.consent:
        raise ConflictError("no_consent", _("商户未同意建立信用档案，不能建档"), {"field": "uscc"})
    raw = (uscc or visit.uscc).strip()
    if not raw:
        raise ValidationError({"uscc": [_("统一社会信用代码：建档时必填（见营业执照）")]})
    try:
        code = uscc_codec.parse(raw).code
    except ValidationError as exc:
        raise ValidationError(
            {"uscc": [_("统一社会信用代码：") + "；".join(exc.messages)]}
        ) from exc
    entity = MarketEntity.objects.filter(uscc=code).first()
    created = entity is None
    if entity is None:
        entity = entity_services.market_entity_create(
            uscc=code,
            name=visit.merchant_name,
            industry_code=industry_code or DEFAULT_INDUSTRY,
            division_code=visit.division_code,
            address=visit.address,
        )
    if visit.uscc != code:
        visit.uscc = code
        visit.save(update_fields=["uscc", "updated_at"])
    file = MerchantFile(
        visit=visit,
        entity=entity,
        built_at=timezone.now(),
        built_by=officer,
        entity_created=created,
    )
    file.full_clean()
    file.save()
    return file
