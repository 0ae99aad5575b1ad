"""Append to the audit trail and verify it.

Every append locks the one chain-head row (``select_for_update``) inside the caller's
transaction, so concurrent appends take turns and the sequence stays contiguous; if the caller's
transaction rolls back, its audit entry goes with it (what did not happen is not recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinrong.audit.choices import AuditCategory
from xinrong.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from xinrong.audit.presenters import ACTION_LABELS
from xinrong.common.crypto import sm3_hex
from xinrong.common.requestid import current_request_id

HEAD_PK = 1
# Keys never written into details, whatever a caller passes (the record is shown to auditors).
SECRET_KEYS = frozenset({"password", "secret", "token", "otp", "recovery_codes", "api_key"})


def entry_hash(*, prev_hash: str, canonical: Mapping[str, Any]) -> str:
    """Return SM3(prev_hash + canonical JSON of the row) in hex."""
    body = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return sm3_hex((prev_hash + body).encode("utf-8"))


def _plain(value: Any) -> Any:
    """Floats as text: PostgreSQL's jsonb may give a float back in another form (1e16, -0.0)
    than the one hashed, and the chain would then look altered."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _clean_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {k: _plain(v) for k, v in (details or {}).items() if k.lower() not in SECRET_KEYS}
    # Round-trip through JSON now, so the hashed value is what the database gives back. Lazy
    # words (an action's name) are stored in the platform's language, whatever the user's.
    with translation.override(settings.LANGUAGE_CODE):
        return dict(json.loads(json.dumps(out, ensure_ascii=False, default=str)))


def _head_locked() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=HEAD_PK).first()
    if head is not None:
        return head
    last = AuditEntry.objects.order_by("-seq").first()
    head, _created = AuditChainHead.objects.get_or_create(
        pk=HEAD_PK,
        defaults={
            "last_seq": last.seq if last else 0,
            "last_hash": last.hash if last else GENESIS_HASH,
        },
    )
    return AuditChainHead.objects.select_for_update().get(pk=head.pk)


def _labelled(action: str, details: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Keep the action's name in words beside its code (the auditor searches by it)."""
    if details and details.get("label"):
        return details
    label = ACTION_LABELS.get(action)
    return {**(details or {}), "label": label} if label is not None else details


@transaction.atomic
def audit_record(
    *,
    category: str,
    action: str,
    actor: Any = None,
    actor_username: str = "",
    target_type: str = "",
    target_id: str | int | None = None,
    target_label: str = "",
    enterprise_uscc: str = "",
    region_code: str = "",
    source_ip: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit trail (in the caller's transaction); return it.

    ``actor`` is a user (or None for the system / an anonymous visitor); its id, username and
    organisation id are copied as plain values. Never pass a secret in ``details``.
    """
    if category not in AuditCategory.values:
        raise ValueError(category)
    user_id = None
    org_id = None
    if actor is not None and getattr(actor, "is_authenticated", False):
        user_id = actor.pk
        org_id = getattr(actor, "organisation_id", None)
        actor_username = actor_username or actor.get_username()
    head = _head_locked()
    entry = AuditEntry(
        seq=head.last_seq + 1,
        created_at=timezone.now(),
        category=category,
        action=action[:64],
        actor_user_id=user_id,
        actor_username=(actor_username or "")[:150],
        actor_organisation_id=org_id,
        target_type=target_type[:64],
        target_id="" if target_id is None else str(target_id)[:64],
        target_label=(target_label or "")[:200],
        enterprise_uscc=(enterprise_uscc or "")[:18],
        region_code=(region_code or "")[:12],
        source_ip=(source_ip or "")[:45],
        request_id=current_request_id()[:64],
        details=_clean_details(_labelled(action, details)),
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(prev_hash=entry.prev_hash, canonical=entry.canonical())
    entry.save(force_insert=True)
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking the chain: ok, or the first bad sequence number and why."""

    ok: bool
    count: int
    last_seq: int
    last_hash: str
    bad_seq: int | None = None
    reason: str = ""


def _entries(chunk: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:chunk])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def audit_chain_verify() -> VerifyResult:
    """Recompute the chain: any altered, removed or inserted row is reported with its seq."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    for entry in _entries():
        if entry.seq != expected_seq:
            return VerifyResult(
                False,
                count,
                expected_seq - 1,
                prev_hash,
                expected_seq,
                _("序号不连续：应为 %(e)d，实际为 %(a)d（有条目被删除）")
                % {"e": expected_seq, "a": entry.seq},
            )
        if entry.prev_hash != prev_hash:
            return VerifyResult(
                False,
                count,
                expected_seq - 1,
                prev_hash,
                entry.seq,
                _("与前一条不衔接（前一条摘要不符：有条目被删除、插入或改动）"),
            )
        if entry_hash(prev_hash=entry.prev_hash, canonical=entry.canonical()) != entry.hash:
            return VerifyResult(
                False,
                count,
                expected_seq - 1,
                prev_hash,
                entry.seq,
                _("内容与摘要不符（条目被改动）"),
            )
        prev_hash = entry.hash
        expected_seq += 1
        count += 1
    last_seq = expected_seq - 1
    head = AuditChainHead.objects.filter(pk=HEAD_PK).first()
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    if head_seq != last_seq or head_hash != prev_hash:
        return VerifyResult(
            False,
            count,
            last_seq,
            prev_hash,
            min(head_seq, last_seq) + 1 if head_seq != last_seq else last_seq,
            _("链头记录第 %(h)d 条，日志止于第 %(l)d 条（末尾条目被删除或插入）")
            % {"h": head_seq, "l": last_seq},
        )
    return VerifyResult(True, count, last_seq, prev_hash)
