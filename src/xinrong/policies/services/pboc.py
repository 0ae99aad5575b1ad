"""The PBoC column's writes: quotas of re-lending/rediscount per institution and their use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.permissions import require
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.policies.choices import PbocTool
from xinrong.policies.models import PbocQuota, PbocQuotaUse

CENT = Decimal("0.01")


def _invalid(errors: dict[str, str]) -> ApplicationError:
    return ApplicationError(
        "invalid_pboc",
        "；".join(errors.values()),
        {"field": next(iter(errors)), "errors": errors},
        status=422,
    )


@transaction.atomic
def quota_set(
    *,
    institution: Any,
    tool: str,
    year: int,
    quota: Decimal,
    actor: Any,
    rate: Decimal | None = None,
    note: str = "",
) -> PbocQuota:
    """Set (create or change) an institution's quota of one tool for a year."""
    require(actor, "policies.pboc_record")
    errors: dict[str, str] = {}
    if institution is None or institution.kind not in INSTITUTION_KINDS:
        errors["institution"] = _("请选择金融机构")
    if tool not in PbocTool.values:
        errors["tool"] = _("政策工具不正确")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = _("年度应在2000至2100之间")
    if not isinstance(quota, Decimal) or not quota.is_finite() or quota <= 0:
        errors["quota"] = _("额度必须大于0元")
    elif quota != quota.quantize(CENT):
        errors["quota"] = _("额度最多保留两位小数（分）")
    if rate is not None and not (Decimal("0") <= rate < Decimal("100")):
        errors["rate"] = _("利率应在0%至100%之间")
    if errors:
        raise _invalid(errors)
    row, _created = PbocQuota.objects.select_for_update().get_or_create(
        institution=institution,
        tool=tool,
        year=year,
        defaults={"quota": quota, "rate": rate, "note": note[:300]},
    )
    used = row.uses.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    if quota < used:
        raise ConflictError(
            "quota_below_use",
            _("额度不能低于已使用的%(u)s元") % {"u": used},
            {"field": "quota"},
        )
    row.quota, row.rate, row.note = quota, rate, note[:300]
    row.save(update_fields=["quota", "rate", "note", "updated_at"])
    return row


@transaction.atomic
def quota_use_record(
    *, quota: PbocQuota, loan: Any, amount: Decimal, used_on: dt.date, actor: Any
) -> PbocQuotaUse:
    """Record that a platform loan was funded under a quota; never past the quota."""
    require(actor, "policies.pboc_record")
    locked = PbocQuota.objects.select_for_update().get(pk=quota.pk)
    errors: dict[str, str] = {}
    if loan.institution_id != locked.institution_id:
        errors["loan"] = _("贷款须由该额度所属机构发放")
    elif PbocQuotaUse.objects.filter(loan=loan).exists():
        errors["loan"] = _("该笔贷款已登记过额度使用")
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        errors["amount"] = _("使用金额必须大于0元")
    elif amount != amount.quantize(CENT):
        errors["amount"] = _("使用金额最多保留两位小数（分）")
    elif amount > loan.principal:
        errors["amount"] = _("使用金额不能超过贷款金额%(p)s元") % {"p": loan.principal}
    if not isinstance(used_on, dt.date) or used_on.year != locked.year:
        errors["used_on"] = _("使用日期须在额度年度%(y)d年内") % {"y": locked.year}
    if errors:
        raise _invalid(errors)
    used = locked.uses.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    if used + amount > locked.quota:
        raise ConflictError(
            "quota_exceeded",
            _("超出额度：额度%(q)s元，已用%(u)s元，本次%(a)s元")
            % {"q": locked.quota, "u": used, "a": amount},
            {"field": "amount"},
        )
    return PbocQuotaUse.objects.create(quota=locked, loan=loan, amount=amount, used_on=used_on)
