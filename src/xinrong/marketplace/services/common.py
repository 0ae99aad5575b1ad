"""Helpers the marketplace's write services share: field parsers, the enterprise-user check,
the application row lock and its move on the workflow kernel, notify-after-commit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.models import LoanApplication
from xinrong.marketplace.workflows import APPLICATION
from xinrong.workflows.kernel import transition_apply

GRADES = tuple(g for g, _floor in DEFAULT_BANDS)
RATE_CEILING = Decimal("36")
INSTITUTION_ROLES = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)


# ---------------------------------------------------------------- validation


def _decimal(terms: Mapping[str, Any], field: str, label: str) -> Decimal:
    try:
        value = Decimal(str(terms.get(field, "")).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {field: _("%(label)s应为数字") % {"label": label}}, code="invalid"
        ) from None
    if not value.is_finite():
        raise ValidationError({field: _("%(label)s应为数字") % {"label": label}}, code="invalid")
    return value


def _int(terms: Mapping[str, Any], field: str, label: str) -> int:
    try:
        return int(str(terms.get(field, "")).strip())
    except ValueError:
        raise ValidationError(
            {field: _("%(label)s应为整数") % {"label": label}}, code="invalid"
        ) from None


def _choices(
    terms: Mapping[str, Any], field: str, label: str, allowed: list[str] | tuple[str, ...]
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


ENTERPRISE_ROLES = (Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT)


def _ensure_entity_user(user: User, entity: MarketEntity) -> None:
    permissions.require(
        user,
        "marketplace.demand_file",
        entity,
        message=_("只有该企业的企业主或经办人可以发布或撤回其融资需求"),
    )


# ---------------------------------------------------------------- loan applications

APPLICATION_PREFIX = "SQ"


def _app_locked(app: LoanApplication) -> LoanApplication:
    return (
        LoanApplication.objects.select_for_update()
        .select_related("entity", "institution", "product", "product_version")
        .get(pk=app.pk)
    )


def _apply(
    app: LoanApplication,
    action: str,
    *,
    actor: User | None,
    note: str = "",
    data: dict[str, Any] | None = None,
    via_api: bool = False,
    update: Callable[[LoanApplication], None] | None = None,
    target: str | None = None,
) -> LoanApplication:
    """Take an application action on the kernel: the event records the actor's organisation and
    whether the institution's system took it through the bank API."""
    moved: LoanApplication = transition_apply(
        APPLICATION,
        app,
        action,
        actor=actor,
        note=note,
        data=data,
        update=update,
        target=target,
        event_fields={
            "organisation_id": actor.organisation_id if actor is not None else None,
            "via_api": via_api,
        },
    ).obj
    return moved


def _deadline(start: dt.datetime, days: int) -> dt.datetime:
    return start + dt.timedelta(days=days)
