"""Writes of organisations: register one (kind, region, USCC checked), correct it, disable it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import ORG_GROUP, OrgGroup, OrgKind
from xinrong.accounts.models import Organisation, SecurityAction, SecurityEvent, User
from xinrong.accounts.services.security import security_event_record
from xinrong.common.errors import ApplicationError
from xinrong.reference import divisions


@transaction.atomic
def organisation_create(
    *,
    name: str,
    kind: str,
    uscc: str | None = None,
    region_code: str = "",
    contact: str = "",
    actor: User | None = None,
    source_ip: str = "",
    user_agent: str = "",
) -> Organisation:
    """Create an organisation after checking its kind, code, name and region.

    ``actor`` is the operator doing it (checked and recorded); None for the enterprise's own
    registration and the command line.
    """
    if kind not in OrgKind.values:
        raise ApplicationError(
            "invalid_kind", _("机构类型“%(kind)s”不存在") % {"kind": kind}, {"field": "kind"}
        )
    _check_region(kind, region_code)
    _check_name(kind, name)
    if uscc:
        from xinrong.reference import uscc as uscc_codec

        uscc = uscc_codec.parse(uscc).code
        if Organisation.objects.filter(uscc=uscc).exists():
            raise ApplicationError(
                "duplicate_uscc",
                _("统一社会信用代码 %(code)s 已被其他机构使用") % {"code": uscc},
                {"field": "uscc"},
                status=409,
            )
    org = Organisation(
        name=name.strip(),
        kind=kind,
        uscc=uscc or None,
        region_code=region_code,
        contact=contact.strip(),
    )
    if actor is not None:
        permissions.require(
            actor,
            "accounts.organisation_create",
            org,
            message=_("您无权在该区划创建机构：子站只能在本区划内创建"),
        )
    try:
        org.full_clean()
    except ValidationError as exc:
        field = next(iter(exc.message_dict), "name")
        raise ApplicationError(
            "invalid_" + field, "；".join(exc.message_dict[field]), {"field": field}
        ) from exc
    org.save()
    security_event_record(
        action=SecurityAction.ORGANISATION_CREATE,
        actor=actor,
        target_organisation=org,
        details={"name": org.name, "kind": org.kind, "region_code": org.region_code},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return org


def _check_region(kind: str, region_code: str) -> None:
    if region_code and divisions.get(region_code) is None:
        raise ApplicationError(
            "invalid_region_code",
            _("行政区划代码“%(code)s”不存在") % {"code": region_code},
            {"field": "region_code"},
        )
    if kind == OrgKind.SUBSTATION and not region_code:
        raise ApplicationError(
            "region_required", _("子站必须指定所辖行政区划"), {"field": "region_code"}
        )


def _check_name(kind: str, name: str, *, exclude: int | None = None) -> None:
    """Refuse an empty name, or an institution's name another one already has."""
    name = name.strip()
    if not name:
        raise ApplicationError("name_required", _("机构名称不能为空"), {"field": "name"})
    if ORG_GROUP[kind] == OrgGroup.ENTERPRISE:
        return  # enterprises may share a name; their USCC tells them apart
    clash = Organisation.objects.filter(name__iexact=name).exclude(
        kind__in=[OrgKind.ENTERPRISE, OrgKind.INDIVIDUAL_BUSINESS]
    )
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ApplicationError(
            "duplicate_name",
            _("机构名称“%(name)s”已被其他机构使用，请核对是否重复创建") % {"name": name},
            {"field": "name"},
            status=409,
        )


@transaction.atomic
def organisation_update(
    *,
    organisation: Organisation,
    name: str,
    contact: str,
    region_code: str,
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> Organisation:
    """Correct an organisation's name, contact or region (operator), recording before/after."""
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    permissions.require(
        actor, "accounts.organisation_edit", org, message=_("您无权修改该机构的信息")
    )
    region_code = region_code.strip()
    _check_region(org.kind, region_code)
    _check_name(org.kind, name, exclude=org.pk)
    moved = Organisation(kind=org.kind, region_code=region_code)
    if not permissions.can(actor, "accounts.organisation_edit", moved):
        raise ApplicationError(
            "region_outside",
            _("所在/管辖区划只能选择您所辖区划内的地区"),
            {"field": "region_code"},
            status=403,
        )
    before = {"name": org.name, "contact": org.contact, "region_code": org.region_code}
    after = {"name": name.strip(), "contact": contact.strip(), "region_code": region_code}
    if before == after:
        return org
    for key, value in after.items():
        setattr(org, key, value)
    org.save(update_fields=[*after, "updated_at"])
    security_event_record(
        action=SecurityAction.ORGANISATION_UPDATE,
        actor=actor,
        target_organisation=org,
        details={
            "changes": {k: [before[k], after[k]] for k in after if before[k] != after[k]},
        },
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return org


@transaction.atomic
def organisation_active_set(
    *,
    organisation: Organisation,
    active: bool,
    reason: str,
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> Organisation:
    """Disable or re-enable an organisation with a reason (operator), recording it.

    Disabling stops its API keys and the logins of its users (each user's own state is kept
    aside: re-enabling the organisation restores the users it disabled, not those disabled on
    their own before).
    """
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    permissions.require(
        actor, "accounts.organisation_disable", org, message=_("您无权停用或启用该机构")
    )
    reason = reason.strip()
    if len(reason) < 4:
        raise ApplicationError(
            "reason_required", _("理由必须填写（至少 4 个字）：将记入安全日志"), {"field": "reason"}
        )
    if org.is_active == active:
        raise ApplicationError(
            "no_change",
            _("该机构已是启用状态") if active else _("该机构已是停用状态"),
            {"field": "reason"},
            status=409,
        )
    if active:
        last = (
            SecurityEvent.objects.filter(
                target_organisation=org, action=SecurityAction.ORGANISATION_DISABLE
            )
            .order_by("-created_at", "-id")
            .first()
        )
        user_ids = list((last.details if last else {}).get("users", []))
        User.objects.filter(organisation=org, pk__in=user_ids).update(is_active=True)
    else:
        user_ids = list(
            User.objects.filter(organisation=org, is_active=True).values_list("pk", flat=True)
        )
        User.objects.filter(pk__in=user_ids).update(is_active=False)
    org.is_active = active
    org.save(update_fields=["is_active", "updated_at"])
    security_event_record(
        action=SecurityAction.ORGANISATION_ENABLE
        if active
        else SecurityAction.ORGANISATION_DISABLE,
        actor=actor,
        target_organisation=org,
        details={"reason": reason[:500], "users": user_ids},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return org
