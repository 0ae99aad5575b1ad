"""Writes of the white and black lists (信用红黑名单): set-wise sweeps, fraud reports, consent.

Black list (一票否决) sources, each entry tied to one source record (``source_ref``):

- 失信被执行人: a visible judicial fact (category ``judicial``) whose *latest* delivery for the
  same case number (entity + 案号) has the 失信被执行人 flag (``flag``); when a later delivery
  of that case says 否 (the court removed the entity), or the record's retention lapsed, or it
  was repaired, the entry is cleared;
- 严重违法违规: a visible administrative penalty (category ``penalty``) of severity ``serious``
  (严重), within its retention and not repaired (credit repair approved → cleared);
- 欺诈: a fraud report confirmed by the operator; kept 5 years from the confirmation (the
  retention of negative information, 《征信业管理条例》第十六条).

White list: the latest credit grade at least the criteria's grade, no negative fact counting
today, not black-listed, and at least ``min_loans_repaid`` platform loans settled (loan facts
with status ``settled``, by loan number). Entries are never deleted; they are cleared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import require
from xinrong.audit.services import audit_record
from xinrong.credit.features import exclude_repaired, scorable_facts
from xinrong.credit.models import (
    BlacklistEntry,
    BlacklistSource,
    CreditProfile,
    FraudReport,
    FraudStatus,
    RecommendConsent,
    WhitelistCriteria,
    WhitelistEntry,
)
from xinrong.credit.recipients import operator_users
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.credit.workflows_fraud import FRAUD, REPORTED
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.models import MarketEntity
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.kernel import event_record, transition_apply

GRADES = tuple(g for g, _floor in DEFAULT_BANDS)  # best first
FRAUD_YEARS = 5
CLEARED_REASONS = {
    BlacklistSource.DISHONEST: "失信被执行人信息已撤销、修复或保存期满",
    BlacklistSource.SERIOUS_VIOLATION: "严重行政处罚已修复、更正或保存期满",
    BlacklistSource.FRAUD: "欺诈认定保留期满",
}


@dataclass(frozen=True)
class SyncResult:
    listed: int
    cleared: int


def _retained(today: dt.date) -> Q:
    return Q(negative=False) | Q(retention_until__isnull=True) | Q(retention_until__gte=today)


def _scoped(qs: Any, entity_ids: list[int] | None) -> Any:
    return qs if entity_ids is None else qs.filter(entity_id__in=entity_ids)


def live_sources(
    *, entity_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> dict[tuple[int, str], tuple[str, str]]:
    """Return the black-list sources in force: (entity, source_ref) → (source, reason)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = None if entity_ids is None else sorted({int(i) for i in entity_ids})
    out: dict[tuple[int, str], tuple[str, str]] = {}

    # 失信被执行人: the latest visible delivery of each case decides (one query, pandas)
    flagged = _scoped(fact_visible().filter(category="judicial", flag=True), ids).values(
        "entity_id"
    )
    judicial = exclude_repaired(
        fact_visible().filter(category="judicial", entity_id__in=flagged)
    ).filter(_retained(today))
    rows = pd.DataFrame(
        list(
            judicial.values_list(
                "id", "entity_id", "reference_no", "flag", "occurred_on", "created_at"
            )
        ),
        columns=["id", "entity_id", "ref", "flag", "occurred_on", "created_at"],
    )
    if len(rows):
        rows["ref"] = rows["ref"].where(rows["ref"] != "", "#" + rows["id"].astype(str))
        latest = rows.sort_values(["created_at", "id"]).groupby(["entity_id", "ref"]).tail(1)
        for r in latest[latest["flag"]].itertuples(index=False):
            case = r.ref if not str(r.ref).startswith("#") else ""
            reason = _("法院公布的失信被执行人") + (
                _("（案号 %(no)s）") % {"no": case} if case else ""
            )
            out[(int(r.entity_id), f"fact:{int(r.id)}")] = (BlacklistSource.DISHONEST, reason)

    # 严重违法违规: serious administrative penalties, within retention, not repaired
    serious = exclude_repaired(
        _scoped(fact_visible().filter(category="penalty", grade="serious"), ids)
    ).filter(_retained(today))
    for fid, entity_id, no in serious.values_list("id", "entity_id", "reference_no"):
        reason = _("严重行政处罚") + (_("（决定书文号 %(no)s）") % {"no": no} if no else "")
        out[(entity_id, f"fact:{fid}")] = (BlacklistSource.SERIOUS_VIOLATION, reason)

    # 欺诈: confirmed fraud reports, for FRAUD_YEARS from the confirmation
    since = now - dt.timedelta(days=365 * FRAUD_YEARS + FRAUD_YEARS // 4 + 1)
    fraud = _scoped(
        FraudReport.objects.filter(status=FraudStatus.CONFIRMED, decided_at__gt=since), ids
    )
    for rid, entity_id, name in fraud.values_list("id", "entity_id", "institution__name"):
        reason = _("金融机构（%(org)s）举报欺诈，经平台运营方确认（举报编号 %(n)s）") % {
            "org": name,
            "n": rid,
        }
        out[(entity_id, f"fraud:{rid}")] = (BlacklistSource.FRAUD, reason)
    return out


@transaction.atomic
def blacklist_sync(
    *, entity_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> SyncResult:
    """List what the sources hold and clear what they no longer hold (set-wise, history kept).

    ``entity_ids`` limits the sweep to those entities (a fact change, a fraud decision).
    """
    now = now or timezone.now()
    ids = None if entity_ids is None else sorted({int(i) for i in entity_ids})
    live = live_sources(entity_ids=ids, now=now)
    active = {
        (e, ref): (pk, source)
        for pk, e, ref, source in _scoped(
            BlacklistEntry.objects.select_for_update().filter(cleared_at__isnull=True), ids
        ).values_list("pk", "entity_id", "source_ref", "source")
    }
    new = [
        BlacklistEntry(entity_id=e, source=src, source_ref=ref, reason=reason[:255], listed_at=now)
        for (e, ref), (src, reason) in live.items()
        if (e, ref) not in active
    ]
    BlacklistEntry.objects.bulk_create(new, batch_size=1000)
    stale: dict[str, list[int]] = {}
    for key, (pk, source) in active.items():
        if key not in live:
            stale.setdefault(source, []).append(pk)
    cleared = 0
    for source, pks in stale.items():
        cleared += BlacklistEntry.objects.filter(pk__in=pks).update(
            cleared_at=now, cleared_reason=CLEARED_REASONS[BlacklistSource(source)]
        )
    # the veto reaches the white list at once
    listed_now = {e for e, _ref in live}
    WhitelistEntry.objects.filter(cleared_at__isnull=True, entity_id__in=sorted(listed_now)).update(
        cleared_at=now, cleared_reason=_("列入黑名单（一票否决）")
    )
    return SyncResult(listed=len(new), cleared=cleared)


def _grades_at_least(grade: str) -> tuple[str, ...]:
    return GRADES[: GRADES.index(grade) + 1]


def whitelist_candidates(
    criteria: WhitelistCriteria, *, today: dt.date | None = None
) -> dict[int, str]:
    """Return entity → grade of the entities meeting the criteria now (a few set queries)."""
    today = today or timezone.localdate()
    grades = dict(
        CreditProfile.objects.filter(
            is_latest=True, grade__in=_grades_at_least(criteria.min_grade)
        ).values_list("entity_id", "grade")
    )
    negative = set(
        scorable_facts(as_of=today).filter(negative=True).values_list("entity_id", flat=True)
    )
    listed = set(
        BlacklistEntry.objects.filter(cleared_at__isnull=True).values_list("entity_id", flat=True)
    )
    keep = {e: g for e, g in grades.items() if e not in negative and e not in listed}
    if criteria.min_loans_repaid > 0:
        settled = dict(
            fact_visible()
            .filter(category="loan", status="settled", entity_id__in=sorted(keep))
            .order_by()
            .values_list("entity_id")
            .annotate(n=Count("reference_no", distinct=True))
            .values_list("entity_id", "n")
        )
        keep = {e: g for e, g in keep.items() if settled.get(e, 0) >= criteria.min_loans_repaid}
    return keep


@transaction.atomic
def whitelist_sync(*, now: dt.datetime | None = None) -> SyncResult:
    """Bring the white list to the criteria in force (no criteria: nobody is white-listed)."""
    from xinrong.credit.selectors.lists import criteria_current

    now = now or timezone.now()
    criteria = criteria_current()
    wanted = whitelist_candidates(criteria, today=timezone.localdate(now)) if criteria else {}
    active = dict(
        WhitelistEntry.objects.select_for_update()
        .filter(cleared_at__isnull=True)
        .values_list("entity_id", "pk")
    )
    new = [
        WhitelistEntry(entity_id=e, grade=g, listed_at=now)
        for e, g in wanted.items()
        if e not in active
    ]
    WhitelistEntry.objects.bulk_create(new, batch_size=1000)
    stale = [pk for e, pk in active.items() if e not in wanted]
    cleared = WhitelistEntry.objects.filter(pk__in=stale).update(
        cleared_at=now, cleared_reason=_("不再符合白名单条件")
    )
    return SyncResult(listed=len(new), cleared=cleared)


def lists_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic sweep: black list first (its veto reaches the white list), then white."""
    black = blacklist_sync(now=now)
    white = whitelist_sync(now=now)
    return {
        "black_listed": black.listed,
        "black_cleared": black.cleared,
        "white_listed": white.listed,
        "white_cleared": white.cleared,
    }


@transaction.atomic
def whitelist_criteria_set(
    *, actor: User, min_grade: str, min_loans_repaid: int | None
) -> WhitelistCriteria:
    """Set the white-list criteria (a new row; the old ones stay) and recompute the list."""
    require(
        actor, "credit.whitelist_criteria_change", message=_("只有全省运营管理员可以设置白名单条件")
    )
    errors: dict[str, list[str]] = {}
    if min_grade not in GRADES:
        errors["min_grade"] = [_("最低信用等级须为以下之一：%(g)s") % {"g": "、".join(GRADES)}]
    if min_loans_repaid is None or not 0 <= int(min_loans_repaid) <= 100:
        errors["min_loans_repaid"] = [_("最少已结清平台贷款笔数须为 0 到 100 之间的整数")]
    if errors:
        raise ValidationError(errors)
    criteria = WhitelistCriteria.objects.create(
        min_grade=min_grade,
        min_loans_repaid=int(min_loans_repaid or 0),
        changed_by=actor,
        changed_at=timezone.now(),
    )
    whitelist_sync()
    # last: the audit trail's head row stays locked until the transaction commits
    audit_record(
        category="config",
        action="credit.whitelist_criteria_set",
        actor=actor,
        target_type="credit.whitelistcriteria",
        target_id=criteria.pk,
        details={"min_grade": min_grade, "min_loans_repaid": criteria.min_loans_repaid},
    )
    return criteria


@transaction.atomic
def recommend_consent_set(
    *, actor: User, entity: MarketEntity, consented: bool
) -> RecommendConsent:
    """Record the enterprise's answer to 同意推荐给金融机构 (with the time; history kept)."""
    require(actor, "credit.recommend_consent", entity, message=_("只有企业本身可以设置是否推荐"))
    return RecommendConsent.objects.create(
        entity=entity, consented=bool(consented), actor=actor, recorded_at=timezone.now()
    )


@transaction.atomic
def fraud_report_file(*, actor: User, uscc: str, description: str) -> FraudReport:
    """An institution reports fraud by an entity; the operator of its region is told."""
    require(actor, "credit.fraud_report", message=_("只有金融机构可以举报企业欺诈"))
    errors: dict[str, list[str]] = {}
    uscc = (uscc or "").strip().upper()
    entity = MarketEntity.objects.filter(uscc=uscc).first() if uscc else None
    if entity is None:
        errors["uscc"] = [_("统一社会信用代码：平台上没有该代码的市场主体，请核对")]
    text = (description or "").strip()
    if len(text) < 10:
        errors["description"] = [_("欺诈情况：请至少写 10 个字，说明时间、经过和涉及的贷款")]
    if errors:
        raise ValidationError(errors)
    assert entity is not None and actor.organisation_id is not None
    report = FraudReport.objects.create(
        entity=entity,
        institution_id=actor.organisation_id,
        reporter=actor,
        description=text,
    )
    event_record(FRAUD, report, REPORTED, actor=actor, note=text, created=True)
    notify_on_commit(
        recipients=operator_users(entity=entity),
        kind="credit.fraud_reported",
        title=_("新的欺诈举报：%(e)s") % {"e": entity.name},
        link=FRAUD.link(report) if FRAUD.link else "",
    )
    return report


def _decide(report: FraudReport, action: str, actor: User, note: str) -> FraudReport:
    def update(locked: FraudReport) -> None:
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()

    with transaction.atomic():
        transition_apply(FRAUD, report, action, actor=actor, note=note, update=update)
        if action == "confirm":
            blacklist_sync(entity_ids=[report.entity_id])
        recipients = list(
            User.objects.filter(organisation_id=report.institution_id, is_active=True)
        )
        notify_on_commit(
            recipients=recipients,
            kind=f"credit.fraud_{action}",
            title=(
                _("您举报的欺诈已确认，%(e)s 已列入黑名单")
                if action == "confirm"
                else _("您举报的欺诈不予认定：%(e)s")
            )
            % {"e": report.entity.name},
            link=FRAUD.link(report) if FRAUD.link else "",
        )
    return report


def fraud_confirm(*, actor: User, report: FraudReport, note: str) -> FraudReport:
    """The operator confirms the fraud: the entity goes on the black list at once."""
    return _decide(report, "confirm", actor, note)


def fraud_dismiss(*, actor: User, report: FraudReport, note: str) -> FraudReport:
    """The operator dismisses the report (nothing is listed)."""
    return _decide(report, "dismiss", actor, note)
