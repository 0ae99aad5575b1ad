"""API keys of institutions and departments: create, revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import API_KEY_KINDS, SERVICE_ROLES
from xinrong.accounts.models import ApiKey, Organisation, SecurityAction, User, UserRole
from xinrong.accounts.services.security import security_event_record
from xinrong.common.errors import ApplicationError

API_KEY_PREFIX = "xr"


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    organisation: Organisation,
    name: str,
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> tuple[ApiKey, str]:
    """Issue an API key for an institution; return it with the raw secret (shown once)."""
    if organisation.kind not in API_KEY_KINDS:
        raise ApplicationError(
            "api_key_kind", _("只有金融机构和政府部门可以申请 API 密钥"), {"field": "organisation"}
        )
    permissions.require(
        actor, "accounts.apikey_manage", organisation, message=_("您无权为该机构管理 API 密钥")
    )
    name = name.strip()
    if not name:
        raise ApplicationError("invalid_name", _("请填写密钥用途"), {"field": "name"})
    prefix = secrets.token_hex(6)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    service_user = User(
        username=f"api-{prefix}",
        organisation=organisation,
        display_name=_("接口调用：%(name)s") % {"name": name[:40]},
    )
    service_user.set_unusable_password()
    service_user.save()
    UserRole.objects.bulk_create(
        UserRole(user=service_user, role=role) for role in SERVICE_ROLES[organisation.group]
    )
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name[:100],
        prefix=prefix,
        key_hash=_hash_key(raw),
        signing_secret=raw,
        created_by=actor,
        service_user=service_user,
    )
    security_event_record(
        action=SecurityAction.API_KEY_ISSUE,
        actor=actor,
        target_api_key=key,
        target_organisation=organisation,
        details={"prefix": prefix, "name": key.name, "service_user": service_user.username},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return key, raw


@transaction.atomic
def api_key_revoke(
    *, key: ApiKey, actor: User, source_ip: str = "", user_agent: str = ""
) -> ApiKey:
    """Revoke an API key; it stops working at once."""
    permissions.require(
        actor, "accounts.apikey_manage", key, message=_("您无权为该机构管理 API 密钥")
    )
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        User.objects.filter(pk=key.service_user_id).update(is_active=False)
        security_event_record(
            action=SecurityAction.API_KEY_REVOKE,
            actor=actor,
            target_api_key=key,
            target_organisation=key.organisation,
            details={"prefix": key.prefix, "name": key.name},
            source_ip=source_ip,
            user_agent=user_agent,
        )
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """Return the live key matching ``raw`` (constant-time compare), recording its use."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = (
        ApiKey.objects.select_related("organisation", "service_user__organisation")
        .filter(
            prefix=parts[1],
            revoked_at__isnull=True,
            organisation__is_active=True,
            service_user__is_active=True,  # a disabled account acts through no key
        )
        .first()
    )
    if key is None or not secrets.compare_digest(key.key_hash, _hash_key(raw.strip())):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
