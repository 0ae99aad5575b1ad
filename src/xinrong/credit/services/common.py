"""Helpers the case services share (disputes, repair, rule changes): text, facts, evidence."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit.evidence import CheckedFile
from xinrong.credit.models import Dispute, DisputeEvidence, RepairApplication, RepairEvidence
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_visible
from xinrong.notifications.services import notification_send

CLAIM_MAX = 2000  # characters of any free text: claim, note, reason, statement
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_clean(value: str | None, *, field: str, label: str, required: bool) -> str:
    """Return cleaned free text or raise an error naming the field."""
    text = (value or "").strip()
    if required and not text:
        raise ApplicationError(
            "required", _("请填写%(l)s") % {"l": label}, {"field": field}, status=422
        )
    if len(text) > CLAIM_MAX:
        raise ApplicationError(
            "too_long",
            _("%(l)s不能超过 %(n)d 个字符") % {"l": label, "n": CLAIM_MAX},
            {"field": field},
            status=422,
        )
    if _CONTROL.search(text) or not _encodable(text):
        raise ApplicationError(
            "invalid_text",
            _("%(l)s不能包含控制字符或无效字符") % {"l": label},
            {"field": field},
            status=422,
        )
    return text


def _encodable(text: str) -> bool:
    """Return False for text with lone surrogates (not storable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def fact_for_update(fact_id: int) -> Fact:
    """Lock a visible fact (serialises filings about it) or raise NotFoundError."""
    fact = (
        fact_visible()
        .select_for_update(of=("self",))
        .select_related("source", "entity")
        .filter(pk=fact_id)
        .first()
        if 0 < fact_id < 2**63
        else None
    )
    if fact is None:
        raise NotFoundError("fact_not_found", _("信用信息不存在"), {"field": "fact_id"})
    return fact


def evidence_store(
    model: type[DisputeEvidence] | type[RepairEvidence],
    owner: dict[str, Any],
    files: list[CheckedFile],
    actor: User,
) -> list[Any]:
    """Save checked files to storage and their rows; remove stored files if anything fails."""
    rows: list[Any] = []
    try:
        for f in files:
            row = model(
                original_name=f.name,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                uploaded_by=actor,
                **owner,
            )
            row.file.save(f.name, f.upload, save=False)
            rows.append(row)
        model.objects.bulk_create(rows)
    except Exception:
        for row in rows:
            row.file.delete(save=False)
        raise
    return rows


def require_handler(actor: User, dispute: Dispute | RepairApplication) -> None:
    if not permissions.can(actor, "credit.case_handle", dispute):
        raise PermissionDeniedError(
            "forbidden",
            _("只有“%(o)s”的数据报送员或平台运营管理员可以处理")
            % {"o": dispute.source.organisation},
        )


def category_label(category: str) -> str:
    spec = CATEGORIES.get(category)
    return str(_(spec.name)) if spec else category


def field_label(category: str, key: str) -> str:
    spec = CATEGORIES.get(category)
    f = spec.by_key.get(key) if spec else None
    return str(_(f.header)) if f else key


def notify_after_commit(
    recipients: Any, *, kind: str, title: str, body: str, link: str, organisation_id: int | None
) -> None:
    """Send after commit: the recipients are read then, so they see the committed state."""

    def send() -> None:
        users = list(recipients()) if callable(recipients) else list(recipients)
        notification_send(
            recipients=users,
            kind=kind,
            title=title,
            body=body,
            link=link,
            organisation_id=organisation_id,
        )

    transaction.on_commit(send)
