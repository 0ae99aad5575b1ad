"""Writes of the archive's access: authorisations (consent) and the query log."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation, User
from xinrong.audit.services import audit_record
from xinrong.common.errors import ApplicationError
from xinrong.credit import recipients
from xinrong.credit.choices import (
    GRAPH_CONTENT,
    GRAPH_CONTENT_LABEL,
    MAX_AUTHORISATION_DAYS,
    QUERY_LOG_ITEMS,
    Channel,
    Purpose,
    Scope,
)
from xinrong.credit.models import Authorisation, QueryLog
from xinrong.datahub.categories import CATEGORIES
from xinrong.enterprises.models import MarketEntity
from xinrong.notifications.services import notify_on_commit


def _require_owner(actor: User, entity: MarketEntity) -> None:
    permissions.require(
        actor, "credit.consent_manage", entity, message=_("只有本企业的账户可以管理查询授权")
    )


@transaction.atomic
def authorisation_grant(
    *,
    entity: MarketEntity,
    actor: User,
    institution: Organisation,
    scope: str,
    purpose: str,
    expires_on: dt.date,
    categories: list[str] | None = None,
    purpose_note: str = "",
) -> Authorisation:
    """Let an institution read the enterprise's archive within a scope until a date."""
    _require_owner(actor, entity)
    if institution.kind not in INSTITUTION_KINDS or not institution.is_active:
        raise ApplicationError(
            "institution_kind",
            _("只能授权给在平台上的金融机构"),
            {"field": "institution"},
            status=422,
        )
    if scope not in Scope.values:
        raise ApplicationError("invalid_scope", _("授权范围不正确"), {"field": "scope"}, status=422)
    if purpose not in Purpose.values:
        raise ApplicationError(
            "invalid_purpose", _("请选择查询用途"), {"field": "purpose"}, status=422
        )
    chosen = sorted(set(categories or []))
    if scope == Scope.CHOSEN:
        unknown = [c for c in chosen if c not in CATEGORIES]
        if not chosen or unknown:
            raise ApplicationError(
                "invalid_categories",
                _("指定类别时须至少选择一个有效类别"),
                {"field": "categories"},
                status=422,
            )
    else:
        chosen = []
    today = timezone.localdate()
    if not today < expires_on <= today + dt.timedelta(days=MAX_AUTHORISATION_DAYS):
        raise ApplicationError(
            "invalid_expiry",
            _("有效期须晚于今天且不超过%(n)d天") % {"n": MAX_AUTHORISATION_DAYS},
            {"field": "expires_on"},
            status=422,
        )
    expires_at = timezone.make_aware(dt.datetime.combine(expires_on, dt.time(23, 59, 59)))
    return Authorisation.objects.create(
        entity=entity,
        institution=institution,
        scope=scope,
        categories=chosen,
        purpose=purpose,
        purpose_note=purpose_note.strip()[:200],
        granted_by=actor,
        expires_at=expires_at,
    )


@transaction.atomic
def authorisation_revoke(*, authorisation: Authorisation, actor: User) -> Authorisation:
    """Withdraw consent at once; later reads are refused."""
    _require_owner(actor, authorisation.entity)
    if authorisation.revoked_at is None:
        authorisation.revoked_at = timezone.now()
        authorisation.revoked_by = actor
        authorisation.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return authorisation


def authorisation_end(*, authorisation: Authorisation) -> Authorisation:
    """End a consent whose purpose is fulfilled (e.g. the loan application it was granted with
    was rejected or its loan settled). The platform does this, so no person is recorded."""
    if authorisation.revoked_at is None:
        authorisation.revoked_at = timezone.now()
        authorisation.save(update_fields=["revoked_at", "updated_at"])
    return authorisation


def query_log_record(
    *,
    entity: MarketEntity,
    user: User,
    authorisation: Authorisation,
    channel: str,
    categories: list[str],
) -> QueryLog:
    """Write who read what of whose, when and why (征信业管理条例 第二十二条)."""
    if channel not in Channel.values:
        raise ValueError(channel)
    assert user.organisation is not None
    log = QueryLog.objects.create(
        entity=entity,
        user=user,
        organisation=user.organisation,
        authorisation=authorisation,
        channel=channel,
        categories=sorted(categories),
        purpose=authorisation.purpose,
    )
    audit_record(
        category="export" if channel == Channel.EXPORT else "data_read",
        action=f"credit.query.{channel}",
        actor=user,
        target_type="enterprise",
        target_id=entity.pk,
        target_label=entity.name,
        enterprise_uscc=entity.uscc,
        region_code=entity.division_code,
        details={"categories": log.categories, "purpose": log.purpose, "query_log": log.pk},
    )
    _queried_notify(log)
    return log


def _content_label(code: str) -> str:
    spec = CATEGORIES.get(code)
    if spec is not None:
        return str(_(spec.name))
    if code == GRAPH_CONTENT:
        return str(GRAPH_CONTENT_LABEL)
    return str(QUERY_LOG_ITEMS.get(code, code))


def _queried_notify(log: QueryLog) -> None:
    """Tell the enterprise, after the commit, that an institution read or exported its data."""
    org = log.organisation.name
    if log.channel == Channel.EXPORT:
        title = _("%(o)s 导出了本企业的信用信息") % {"o": org}
    elif "report" in log.categories:
        title = _("%(o)s 生成了本企业的信用报告") % {"o": org}
    else:
        # A loan officer reads the archive many times while handling one case: the enterprise is
        # told of an organisation's first read of the day; the query log lists every read.
        day_start = timezone.localtime(log.accessed_at).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        earlier = (
            QueryLog.objects.filter(
                entity=log.entity, organisation=log.organisation, accessed_at__gte=day_start
            )
            .exclude(pk=log.pk)
            .exclude(channel=Channel.EXPORT)
            .values_list("categories", flat=True)
        )
        if any("report" not in (c or []) for c in earlier):
            return
        title = _("%(o)s 查询了本企业的信用信息") % {"o": org}
    notify_on_commit(
        recipients=recipients.entity_users(entity=log.entity),
        kind="credit.queried",
        title=title,
        body=_("用途：%(p)s · 渠道：%(c)s · 内容：%(items)s")
        % {
            "p": log.get_purpose_display(),
            "c": log.get_channel_display(),
            "items": "、".join(_content_label(c) for c in log.categories) or "—",
        },
        link=reverse("credit:query_log"),
        organisation_id=log.entity.organisation_id,
    )
