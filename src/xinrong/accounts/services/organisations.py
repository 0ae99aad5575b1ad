"""Writes of organisations: register one (kind, region, USCC checked)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation, SecurityAction, User
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
    actor: User | None = None,
    source_ip: str = "",
    user_agent: str = "",
) -> Organisation:
    """Create an organisation after checking its kind, code and region.

    ``actor`` is the operator doing it (checked and recorded); None for the enterprise's own
    registration and the command line.
    """
    if kind not in OrgKind.values:
        raise ApplicationError(
            "invalid_kind", _("机构类型“%(kind)s”不存在") % {"kind": kind}, {"field": "kind"}
        )
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
    org = Organisation(name=name.strip(), kind=kind, uscc=uscc or None, region_code=region_code)
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
