"""The security log: append who did what to which account, role, login or key."""

from __future__ import annotations

from typing import Any

from xinrong.accounts.models import ApiKey, Organisation, SecurityAction, SecurityEvent, User
from xinrong.audit.services import audit_record


def security_event_record(
    *,
    action: str,
    actor: User | None = None,
    target_user: User | None = None,
    target_organisation: Organisation | None = None,
    target_api_key: ApiKey | None = None,
    username: str = "",
    details: dict[str, Any] | None = None,
    source_ip: str = "",
    user_agent: str = "",
) -> SecurityEvent:
    """Append one security event: who did what to which account, role, login or key, from where.

    Never pass a secret in ``details``: the record is shown to auditors.
    """
    if target_organisation is None and target_user is not None:
        target_organisation = target_user.organisation
    if target_organisation is None and target_api_key is not None:
        target_organisation = target_api_key.organisation
    actor_org = None
    if actor is not None and actor.organisation_id is not None:
        actor_org = actor.organisation
    event = SecurityEvent.objects.create(
        action=action,
        actor=actor,
        actor_organisation=actor_org,
        target_user=target_user,
        target_organisation=target_organisation,
        target_api_key=target_api_key,
        username=(username or (target_user.username if target_user else ""))[:150],
        details=details or {},
        ip_address=source_ip or None,
        user_agent=user_agent[:300],
    )
    audit_record(
        category="security",
        action=action,
        actor=actor,
        actor_username="" if actor is not None else event.username,
        target_type="user" if target_user else "api_key" if target_api_key else "organisation",
        target_id=(target_user or target_api_key or target_organisation or event).pk,
        target_label=event.username or (target_organisation.name if target_organisation else ""),
        region_code=target_organisation.region_code if target_organisation else "",
        source_ip=source_ip,
        details={
            **(details or {}),
            "security_event": event.pk,
            "label": dict(SecurityAction.choices).get(action, action),
        },
    )
    return event
