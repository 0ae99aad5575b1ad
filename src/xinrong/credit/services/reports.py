"""Writes of credit reports: generate, store and record a report."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.crypto import sm3_hex
from xinrong.common.errors import ApplicationError
from xinrong.credit.choices import (
    OPEN_DISPUTE_STATUSES,
    PUBLIC_CATEGORIES,
    Channel,
    Purpose,
    ReportAudience,
    Scope,
)
from xinrong.credit.models import Authorisation, CreditReport, Dispute
from xinrong.credit.reports.content import compose, max_rows_per_category
from xinrong.credit.reports.numbers import new_number
from xinrong.credit.reports.pdf import render
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.selectors import reports as reports_selectors
from xinrong.credit.selectors import scoring as scoring_selectors
from xinrong.credit.services.archive import query_log_record
from xinrong.enterprises.models import MarketEntity

logger = logging.getLogger(__name__)


def _pending_disputes(entity: MarketEntity) -> list[int]:
    """Return the ids of the entity's facts under a pending objection (异议), for the report.

    The same rule as ``disputes_selectors.disputed_fact_ids``: disputes submitted or in review. The
    report lists those facts under 异议信息 and marks them 异议中 in their category.
    """
    return sorted(
        Dispute.objects.filter(entity=entity, status__in=OPEN_DISPUTE_STATUSES).values_list(
            "fact_id", flat=True
        )
    )


def _report_purpose(purpose: str, auth: Authorisation | None) -> str:
    """An institution's report serves its authorisation's purpose; the enterprise may name one."""
    purpose = (purpose or "").strip()
    if purpose and purpose not in Purpose.values:
        raise ApplicationError(
            "invalid_purpose",
            _("查询用途不正确，可选：%(choices)s")
            % {"choices": "、".join(str(label) for label in Purpose.labels)},
            {"field": "purpose"},
            status=422,
        )
    if auth is None:
        return purpose
    if purpose and purpose != auth.purpose:
        raise ApplicationError(
            "purpose_mismatch",
            _("查询用途须与企业授权的用途“%(p)s”一致") % {"p": auth.get_purpose_display()},
            {"field": "purpose"},
            status=422,
        )
    return auth.purpose


def _report_quota(*, user: User, entity: MarketEntity) -> None:
    """Refuse (429) once the user generated ``XINRONG_REPORT_DAILY_LIMIT`` reports today."""
    limit = int(getattr(settings, "XINRONG_REPORT_DAILY_LIMIT", 20))
    # Lock the user's row so two simultaneous requests cannot both pass the count.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    done = CreditReport.objects.filter(
        entity=entity, requested_by=user, generated_at__gte=start
    ).count()
    if done >= limit:
        raise ApplicationError(
            "report_daily_limit",
            _("今天已为该企业生成 %(n)d 份信用报告，达到每日上限（%(limit)d 份），请明天再试")
            % {"n": done, "limit": limit},
            {"field": "entity", "limit": limit},
            status=429,
        )


def report_verify_url(number: str, *, base: str = "") -> str:
    """Return the absolute address of a report's public verification page.

    ``XINRONG_PUBLIC_URL`` wins (reports outlive the request's host name); ``base`` is the
    requesting page's scheme and host otherwise.
    """
    root = str(getattr(settings, "XINRONG_PUBLIC_URL", "") or base).rstrip("/")
    return f"{root}{reverse('report_verify', args=[number])}"


@transaction.atomic
def report_generate(
    *, user: User, entity: MarketEntity, channel: str, purpose: str = "", verify_base: str = ""
) -> CreditReport:
    """Generate the entity's credit report (PDF) for the user, store it and record its digest.

    The enterprise's own users get everything in its archive; an institution gets what its live
    authorisation allows, exactly as the archive shows it (``archive_selectors.archive_read``), the
    score only under a "full" authorisation (as the portrait), and its generation is written to
    the query log with the categories read and "report".
    """
    if channel not in Channel.values:
        raise ValueError(channel)
    own, auth = reports_selectors.report_access(user=user, entity=entity)
    purpose = _report_purpose(purpose, auth)
    _report_quota(user=user, entity=entity)
    archive = archive_selectors.archive_read(user=user, entity=entity, channel=channel, log=False)
    requester = user.organisation
    assert requester is not None  # report_access admits organisation members only
    score_allowed = own or (auth is not None and auth.scope == Scope.FULL)
    profile = scoring_selectors.profile_latest(entity=entity) if score_allowed else None
    if not own:
        assert archive.authorisation is not None
        read = [c for c in archive.categories if c not in PUBLIC_CATEGORIES]
        query_log_record(
            entity=entity,
            user=user,
            authorisation=archive.authorisation,
            channel=channel,
            categories=[*read, "report"],
        )
    records = reports_selectors.report_query_records(
        entity=entity, own=own, limit=max_rows_per_category()
    )
    now = timezone.now()
    number = new_number(now)
    with translation.override("zh-hans"):  # the report is a Chinese document in any UI language
        content = compose(
            number=number,
            generated_at=now,
            archive=archive,
            requester=requester,
            purpose=purpose,
            profile=profile,
            score_allowed=score_allowed,
            query_records=records,
            disputed_fact_ids=_pending_disputes(entity),
            verify_url=report_verify_url(number, base=verify_base),
        )
        rendered = render(content)
    report = CreditReport(
        number=number,
        entity=entity,
        requested_by=user,
        organisation=requester,
        audience=ReportAudience.OWN if own else ReportAudience.INSTITUTION,
        authorisation=archive.authorisation if not own else None,
        purpose=purpose,
        channel=channel,
        generated_at=now,
        sm3=sm3_hex(rendered.pdf),
        pages=rendered.pages,
        size=len(rendered.pdf),
        model_version=profile.model.version if profile else None,
        score=profile.score if profile else None,
        grade=profile.grade if profile else "",
    )
    report.full_clean(exclude=["file"])
    try:
        report.file.save(f"{number}.pdf", ContentFile(rendered.pdf), save=False)
    except OSError as exc:
        logger.exception("credit report %s: the PDF could not be stored", number)
        raise ApplicationError(
            "report_storage",
            _("信用报告文件保存失败，请稍后重试；如持续出现请联系平台运营方"),
            status=503,
        ) from exc
    try:
        report.save()
    except Exception:
        report.file.delete(save=False)  # no file without its record
        raise
    return report
