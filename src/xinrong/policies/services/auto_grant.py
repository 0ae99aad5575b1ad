"""免申即享 (granted without applying): draw the list, review it, confirm, grant, tell.

The platform draws a measure's list from the eligible ``PolicyMatch`` rows (the matching pass
fills that table); each entity's amount is the measure's fixed amount, else the estimated one,
capped per enterprise. The department reviews it, excludes entities with reasons, and confirms:
the remaining entries are granted against the budget all or nothing (``budget.grant_commit``),
and the enterprises are told "已为您兑现" without having applied.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.accounts.permissions import require
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.notifications.services import notify_on_commit
from xinrong.policies.choices import (
    AutoListStatus,
    Delivery,
    GrantSource,
    MeasureStatus,
)
from xinrong.policies.models import (
    AutoGrantEntry,
    AutoGrantList,
    Grant,
    Measure,
    PolicyMatch,
)
from xinrong.policies.services import budget
from xinrong.policies.workflows.funds import AUTO_LIST
from xinrong.workflows.kernel import event_record, transition_apply

L = AutoListStatus
REASON_MAX = 300


def entry_amount(measure: Measure, estimated: Decimal | None) -> Decimal | None:
    """An entity's amount on the list: the fixed amount, else the estimate; capped per firm."""
    amount = measure.amount if measure.amount is not None else estimated
    if amount is None:
        return None
    if measure.cap is not None:
        amount = min(amount, measure.cap)
    return amount.quantize(budget.CENT)


@transaction.atomic
def auto_list_draw(*, measure: Measure, actor: User) -> AutoGrantList:
    """Draw a new 免申即享 list for ``measure`` from its eligible matches.

    Entities already granted under the measure are left out; an entity whose amount cannot be
    told is listed as excluded with that reason. One open list per measure at a time.
    """
    locked = Measure.objects.select_for_update().select_related("document").get(pk=measure.pk)
    require(actor, "policies.auto_manage", locked)
    if locked.status != MeasureStatus.PUBLISHED:
        raise ConflictError(
            "measure_not_published", _("措施未发布，不能生成免申即享名单"), {"field": "measure"}
        )
    if locked.delivery != Delivery.AUTOMATIC:
        raise ConflictError(
            "not_automatic",
            _("该措施的兑现方式是“申请办理”，不是免申即享"),
            {"field": "measure"},
        )
    if AutoGrantList.objects.filter(measure=locked, status=L.DRAFT).exists():
        raise ConflictError(
            "list_open",
            _("该措施已有待确认的名单，请先确认或作废"),
            {"field": "measure"},
        )
    granted = Grant.objects.filter(measure=locked, status__in=budget.LIVE).values_list(
        "entity_id", flat=True
    )
    matches = list(
        PolicyMatch.objects.filter(measure=locked, eligible=True)
        .exclude(entity_id__in=granted)
        .values_list("entity_id", "estimated_amount")
        .order_by("entity_id")
    )
    now = timezone.now()
    auto_list = AutoGrantList.objects.create(
        measure=locked, measure_version=locked.version, status=L.DRAFT, drawn_at=now
    )
    entries = []
    for entity_id, estimated in matches:
        amount = entry_amount(locked, estimated)
        entries.append(
            AutoGrantEntry(
                auto_list=auto_list,
                entity_id=entity_id,
                amount=amount if amount is not None else Decimal("0.00"),
                excluded=amount is None or amount <= 0,
                exclusion_reason=""
                if amount is not None and amount > 0
                else _("无法测算该企业的兑现金额"),
            )
        )
    AutoGrantEntry.objects.bulk_create(entries, batch_size=2000)
    event_record(
        AUTO_LIST,
        auto_list,
        "drawn",
        actor=actor,
        data={"count": len(entries)},
        event_fields={"created_at": now},
        created=True,
    )
    return auto_list


def _entry(auto_list: AutoGrantList, entry: AutoGrantEntry | int) -> AutoGrantEntry:
    pk = entry if isinstance(entry, int) else entry.pk
    try:
        return AutoGrantEntry.objects.select_related("entity").get(pk=pk, auto_list=auto_list)
    except AutoGrantEntry.DoesNotExist as exc:
        raise ApplicationError(
            "entry_not_found", _("名单中没有该企业"), {"field": "entry"}, status=404
        ) from exc


@transaction.atomic
def auto_entry_exclude(
    *, auto_list: AutoGrantList, entry: AutoGrantEntry | int, actor: User, reason: str
) -> AutoGrantEntry:
    """Exclude one entity from a list awaiting confirmation, with the reason."""
    row = _entry(auto_list, entry)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ApplicationError(
            "reason_too_long",
            _("排除原因最多 %(n)d 个字") % {"n": REASON_MAX},
            {"field": "note"},
            status=422,
        )

    def update(_locked: AutoGrantList) -> None:
        row.excluded = True
        row.exclusion_reason = reason
        row.save(update_fields=["excluded", "exclusion_reason"])

    transition_apply(
        AUTO_LIST,
        auto_list,
        "exclude",
        actor=actor,
        note=reason,
        data={"entity": row.entity.name, "entity_id": row.entity_id},
        update=update,
    )
    return row


@transaction.atomic
def auto_entry_include(
    *, auto_list: AutoGrantList, entry: AutoGrantEntry | int, actor: User
) -> AutoGrantEntry:
    """Put an excluded entity back on the list (only when its amount is known)."""
    row = _entry(auto_list, entry)
    if row.amount <= 0:
        raise ApplicationError(
            "amount_unknown",
            _("无法测算该企业的兑现金额，不能恢复"),
            {"field": "entry"},
            status=422,
        )

    def update(_locked: AutoGrantList) -> None:
        row.excluded = False
        row.exclusion_reason = ""
        row.save(update_fields=["excluded", "exclusion_reason"])

    transition_apply(
        AUTO_LIST,
        auto_list,
        "include",
        actor=actor,
        data={"entity": row.entity.name, "entity_id": row.entity_id},
        update=update,
    )
    return row


@transaction.atomic
def auto_list_confirm(*, auto_list: AutoGrantList, actor: User, note: str = "") -> AutoGrantList:
    """Confirm the list: grant every entry not excluded, all or nothing, and tell the firms.

    A list whose total does not fit what is left of the budget is refused as a whole, naming
    both figures, so the department can exclude entities and confirm again.
    """
    AUTO_LIST.check(actor, auto_list, "confirm")
    measure = Measure.objects.select_for_update().get(pk=auto_list.measure_id)
    if measure.status != MeasureStatus.PUBLISHED:
        raise ConflictError(
            "measure_not_published", _("措施已撤回，不能兑现"), {"field": "measure"}
        )
    entries = list(
        AutoGrantEntry.objects.filter(auto_list=auto_list, excluded=False)
        .select_related("entity")
        .order_by("id")
    )
    if not entries:
        raise ApplicationError(
            "list_empty", _("名单中没有待兑现的企业"), {"field": "entries"}, status=422
        )
    total = sum((e.amount for e in entries), Decimal("0"))
    use = budget.budget_use(measure=measure)
    if use.left is not None and total > use.left:
        raise ConflictError(
            "budget_exceeded",
            _("名单合计 %(t)s 元，超出措施预算剩余 %(l)s 元；请排除部分企业后再确认")
            % {"t": f"{total:,.2f}", "l": f"{use.left:,.2f}"},
            {"field": "entries", "left": str(use.left)},
        )
    already = set(
        Grant.objects.filter(
            measure=measure,
            status__in=budget.LIVE,
            entity_id__in=[e.entity_id for e in entries],
        ).values_list("entity_id", flat=True)
    )
    if already:
        raise ConflictError(
            "already_granted",
            _("名单中有 %(n)d 户企业已获得该措施的资金，请排除后再确认") % {"n": len(already)},
            {"field": "entries"},
        )
    # one locked budget check and one bulk insert for the whole list
    budget.grants_commit(
        measure=measure,
        rows=[budget.GrantRow(e.entity, e.amount, auto_entry=e) for e in entries],
        source=GrantSource.AUTOMATIC,
        actor=actor,
    )
    now = timezone.now()

    def update(locked: AutoGrantList) -> None:
        locked.confirmed_by = actor
        locked.confirmed_at = now
        locked.note = (note or "").strip()

    transition_apply(
        AUTO_LIST,
        auto_list,
        "confirm",
        actor=actor,
        note=(note or "").strip(),
        data={"count": len(entries), "total": f"{total:,.2f}"},
        update=update,
    )
    _notify_granted(measure, entries)
    return auto_list


def _notify_granted(measure: Measure, entries: list[AutoGrantEntry]) -> None:
    """Tell each granted enterprise, one notice per amount (not one query per firm)."""
    org_amount = {e.entity.organisation_id: e.amount for e in entries if e.entity.organisation_id}
    users = User.objects.filter(
        organisation_id__in=list(org_amount),
        is_active=True,
        api_key__isnull=True,
        roles__role__in=(Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT),
    ).values_list("pk", "organisation_id")
    by_amount: dict[Decimal, set[int]] = defaultdict(set)
    for pk, org_id in users:
        by_amount[org_amount[org_id]].add(pk)
    for amount, ids in by_amount.items():
        notify_on_commit(
            recipients=sorted(ids),
            kind="policies.auto_granted",
            title=_("已为您兑现：%(m)s %(a)s 元（免申即享）")
            % {"m": measure.title, "a": f"{amount:,.2f}"},
            body=_("贵企业符合该政策条件，无需申请，部门已确认兑现；资金拨付后将另行通知。"),
            link="/policies/funds/mine/",
        )


@transaction.atomic
def auto_list_discard(*, auto_list: AutoGrantList, actor: User, note: str) -> AutoGrantList:
    """Discard a list awaiting confirmation (nothing is granted)."""
    transition_apply(AUTO_LIST, auto_list, "discard", actor=actor, note=note)
    return auto_list


def auto_granted_total(*, measure: Measure) -> Decimal:
    """The total granted without application under a measure (live grants)."""
    return Grant.objects.filter(
        measure=measure, source=GrantSource.AUTOMATIC, status__in=budget.LIVE
    ).aggregate(s=Sum("amount"))["s"] or Decimal("0")
