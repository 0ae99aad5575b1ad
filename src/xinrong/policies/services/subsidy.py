"""Interest subsidies (贴息) on platform loans: a batch per period, the lender confirms, granted.

For a measure of kind ``interest_subsidy`` and a period ``period_start..period_end`` (both days
included) the batch takes every loan disbursed on the platform by the period's end whose borrower
is eligible for the measure (a ``PolicyMatch`` row with ``eligible=True``), and the interest the
borrower actually paid in the period (the ``interest`` of the loan's repayment records with
``paid_on`` inside the period). Per loan:

    按比例测算 = round_half_up(期间实付利息 × 比例, 0.01)
    贴息金额   = min(按比例测算, 单笔贷款上限,
                     单户上限 − 该企业在本措施已获或待确认的贴息 − 本批次中排在前面的贷款的贴息)

An enterprise's loans take the enterprise's remaining cap in the order they were disbursed. The
arithmetic is done in integer fen over the whole batch at once (pandas/NumPy), never in float.
Lines whose lender disputes them are not paid and do not count against the enterprise's cap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import require
from xinrong.common.errors import ApplicationError, ConflictError, NotFoundError
from xinrong.marketplace.models import Loan, Repayment
from xinrong.marketplace.services.subsidies import loan_subsidies_record
from xinrong.notifications.services import notify_on_commit
from xinrong.policies.choices import (
    GrantSource,
    GrantStatus,
    MeasureKind,
    MeasureStatus,
    SubsidyBatchStatus,
    SubsidyLineStatus,
)
from xinrong.policies.models import Grant, Measure, PolicyMatch, SubsidyBatch, SubsidyLine
from xinrong.policies.services.budget import GrantRow, grant_disburse, grants_commit
from xinrong.policies.workflows.subsidy import SUBSIDY_BATCH
from xinrong.workflows.kernel import event_record, transition_apply

MICRO = 1_000_000  # ratio has six decimals
COUNTED = (SubsidyLineStatus.PENDING, SubsidyLineStatus.CONFIRMED)


def _fen(value: Decimal | None) -> int | None:
    return None if value is None else int((Decimal(value) * 100).to_integral_value())


def _yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def _money_text(fen: int) -> str:
    return f"{_yuan(fen):,.2f}"


def subsidy_of(interest: Decimal, ratio: Decimal) -> Decimal:
    """Return interest × ratio rounded half-up to the fen (the reference for one loan)."""
    return (Decimal(interest) * Decimal(ratio)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineDraft:
    """One loan's computed subsidy before it is stored (all sums in fen)."""

    loan_id: int
    entity_id: int
    institution_id: int
    interest: int
    computed: int
    amount: int
    note: str


def subsidy_compute(
    frame: pd.DataFrame,
    *,
    ratio: Decimal,
    cap_per_loan: Decimal | None,
    cap: Decimal | None,
    prior: dict[int, int] | None = None,
) -> pd.DataFrame:
    """Compute the subsidy of every loan at once; return ``frame`` with computed/amount/note.

    ``frame`` has one row per loan: ``loan_id``, ``entity_id``, ``interest`` (fen paid in the
    period) and ``order`` (the loans' order inside an enterprise, e.g. disbursement). ``prior``
    maps an entity to the fen it already holds under the measure (other batches).
    """
    out = frame.sort_values(["entity_id", "order", "loan_id"]).reset_index(drop=True)
    ratio_micro = int((Decimal(ratio) * MICRO).to_integral_value())
    interest = out["interest"].to_numpy(dtype=np.int64)
    # half-up rounding of a non-negative product, exact in integers
    computed = (interest * ratio_micro + MICRO // 2) // MICRO
    loan_cap = _fen(cap_per_loan)
    capped = computed if loan_cap is None else np.minimum(computed, loan_cap)
    notes = np.where(
        capped < computed, _("按单笔贷款上限%(c)s元封顶") % {"c": _money_text(loan_cap or 0)}, ""
    )
    amount = capped
    ent_cap = _fen(cap)
    if ent_cap is not None:
        held = out["entity_id"].map(prior or {}).fillna(0).astype(np.int64).to_numpy()
        before = pd.Series(capped).groupby(out["entity_id"].to_numpy()).cumsum().to_numpy() - capped
        room = np.maximum(ent_cap - held - before, 0)
        amount = np.minimum(capped, room)
        notes = np.where(
            amount < capped,
            _("按单户上限%(c)s元封顶") % {"c": _money_text(ent_cap)},
            notes,
        )
    out["computed"] = computed
    out["amount"] = amount
    out["note"] = notes
    return out


def _errors(fields: dict[str, str]) -> ApplicationError:
    first = next(iter(fields))
    return ApplicationError(
        "invalid_subsidy_batch",
        "；".join(fields.values()),
        {"field": first, "errors": fields},
        status=422,
    )


def _check_terms(measure: Measure, start: Any, end: Any, today: dt.date) -> None:
    errors: dict[str, str] = {}
    if measure.kind != MeasureKind.INTEREST_SUBSIDY:
        errors["measure"] = _("只有“贷款贴息”类措施可以测算贴息")
    elif measure.status != MeasureStatus.PUBLISHED:
        errors["measure"] = _("措施须已发布才能测算贴息")
    if measure.ratio is None or measure.ratio <= 0:
        errors["ratio"] = _("措施未设置贴息比例，请先在措施中填写比例")
    if not isinstance(start, dt.date):
        errors["period_start"] = _("请填写计息期间的开始日期")
    if not isinstance(end, dt.date):
        errors["period_end"] = _("请填写计息期间的结束日期")
    if isinstance(start, dt.date) and isinstance(end, dt.date):
        if start > end:
            errors["period_end"] = _("计息期间的结束日期不能早于开始日期")
        elif end > today:
            errors["period_end"] = _("计息期间的结束日期不能晚于今天（%(d)s）") % {
                "d": today.isoformat()
            }
    if errors:
        raise _errors(errors)


@transaction.atomic
def subsidy_batch_calculate(
    *, measure: Measure, period_start: dt.date, period_end: dt.date, actor: User
) -> SubsidyBatch:
    """Calculate one period's 贴息 of a measure into a new batch with one line per loan.

    Refuses (422) a measure that is not a published interest subsidy with a ratio, a wrong
    period, a period that overlaps another batch of the measure (409) and a period in which no
    eligible loan paid interest.
    """
    require(actor, "policies.subsidy_calculate", measure)
    today = timezone.localdate()
    _check_terms(measure, period_start, period_end, today)
    locked = Measure.objects.select_for_update().get(pk=measure.pk)  # one calculation at a time
    overlap = SubsidyBatch.objects.filter(
        measure=locked, period_start__lte=period_end, period_end__gte=period_start
    ).first()
    if overlap is not None:
        raise ConflictError(
            "subsidy_period_overlap",
            _("计息期间与已有批次（%(s)s 至 %(e)s）重叠，同一笔利息不能重复贴息")
            % {"s": overlap.period_start.isoformat(), "e": overlap.period_end.isoformat()},
            {"field": "period_start"},
        )
    eligible = PolicyMatch.objects.filter(measure=locked, eligible=True).values("entity_id")
    loans = pd.DataFrame.from_records(
        Loan.objects.filter(entity_id__in=eligible, disbursed_on__lte=period_end).values_list(
            "id", "entity_id", "institution_id", "disbursed_on"
        ),
        columns=["loan_id", "entity_id", "institution_id", "disbursed_on"],
    )
    paid = pd.DataFrame.from_records(
        Repayment.objects.filter(
            loan_id__in=loans["loan_id"].tolist(),
            paid_on__gte=period_start,
            paid_on__lte=period_end,
            interest__gt=0,
        ).values_list("loan_id", "interest"),
        columns=["loan_id", "interest"],
    )
    if paid.empty:
        raise ApplicationError(
            "no_subsidy_loans",
            _("%(s)s 至 %(e)s 期间没有符合条件的企业在平台贷款上支付利息，无需测算")
            % {"s": period_start.isoformat(), "e": period_end.isoformat()},
            {"field": "period_start"},
            status=422,
        )
    paid["interest"] = [_fen(v) for v in paid["interest"]]
    per_loan = paid.groupby("loan_id", as_index=False)["interest"].sum()
    frame = per_loan.merge(loans, on="loan_id", how="inner")
    frame["order"] = pd.to_datetime(frame["disbursed_on"])
    prior_rows = (
        SubsidyLine.objects.filter(
            batch__measure=locked,
            entity_id__in=frame["entity_id"].unique().tolist(),
            status__in=COUNTED,
        )
        .values_list("entity_id", "amount")
        .iterator()
    )
    prior: dict[int, int] = {}
    for entity_id, amount in prior_rows:
        prior[entity_id] = prior.get(entity_id, 0) + (_fen(amount) or 0)
    result = subsidy_compute(
        frame,
        ratio=locked.ratio or Decimal(0),
        cap_per_loan=locked.cap_per_loan,
        cap=locked.cap,
        prior=prior,
    )
    batch = SubsidyBatch.objects.create(
        measure=locked,
        period_start=period_start,
        period_end=period_end,
        status=SubsidyBatchStatus.CALCULATED,
        created_by=actor,
    )
    SubsidyLine.objects.bulk_create(
        [
            SubsidyLine(
                batch=batch,
                loan_id=int(r.loan_id),
                entity_id=int(r.entity_id),
                institution_id=int(r.institution_id),
                interest_paid=_yuan(r.interest),
                computed=_yuan(r.computed),
                amount=_yuan(r.amount),
                cap_note=str(r.note),
            )
            for r in result.itertuples(index=False)
        ]
    )
    total = int(result["amount"].sum())
    event_record(
        SUBSIDY_BATCH,
        batch,
        "calculated",
        actor=actor,
        note=_("测算 %(n)d 笔贷款，贴息合计 %(t)s 元")
        % {"n": len(result), "t": _money_text(total)},
        data={"lines": len(result), "total": str(_yuan(total))},
        created=True,
    )
    institutions = result["institution_id"].unique().tolist()
    notify_on_commit(
        recipients=User.objects.filter(
            organisation_id__in=institutions, is_active=True, api_key__isnull=True
        ),
        kind="policy_subsidy",
        title=_("请确认贷款贴息明细：%(m)s") % {"m": locked.title},
        body=_("%(s)s 至 %(e)s 期间贵机构贷款的贴息已测算，请核对实付利息并确认或提出异议。")
        % {"s": period_start.isoformat(), "e": period_end.isoformat()},
        link=SUBSIDY_BATCH.link(batch) if SUBSIDY_BATCH.link else "",
    )
    return batch


def _settle_if_answered(batch: SubsidyBatch) -> None:
    if not SubsidyLine.objects.filter(batch=batch, status=SubsidyLineStatus.PENDING).exists():
        transition_apply(SUBSIDY_BATCH, batch, "settle", actor=None)


def _batch_locked(batch: SubsidyBatch) -> SubsidyBatch:
    locked = SubsidyBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != SubsidyBatchStatus.CALCULATED:
        raise ConflictError(
            "subsidy_batch_closed",
            _("该批次当前为「%(s)s」，明细不能再确认或提出异议")
            % {"s": locked.get_status_display()},
            {"field": "status"},
        )
    return locked


@transaction.atomic
def subsidy_lines_confirm(
    *, batch: SubsidyBatch, actor: User, line_ids: list[int] | None = None
) -> int:
    """Confirm the pending lines of the actor's institution in the batch (or the given ones).

    Returns how many lines were confirmed; when no line of the batch is pending any more the
    batch moves to "机构已确认".
    """
    locked = _batch_locked(batch)
    qs = SubsidyLine.objects.filter(batch=locked, status=SubsidyLineStatus.PENDING)
    if line_ids is not None:
        qs = qs.filter(pk__in=line_ids)
    else:
        qs = qs.filter(institution_id=actor.organisation_id)
    lines = list(qs.select_related("batch__measure__document"))
    if not lines:
        raise ApplicationError(
            "no_pending_lines", _("没有待贵机构确认的贴息明细"), {"field": "lines"}, status=422
        )
    for line in lines:
        require(actor, "policies.subsidy_line_confirm", line)
    now = timezone.now()
    SubsidyLine.objects.filter(pk__in=[ln.pk for ln in lines]).update(
        status=SubsidyLineStatus.CONFIRMED, confirmed_by=actor, confirmed_at=now
    )
    event_record(
        SUBSIDY_BATCH,
        locked,
        "lines_confirmed",
        actor=actor,
        note=_("%(o)s 确认 %(n)d 笔贴息明细")
        % {"o": actor.organisation.name if actor.organisation else "", "n": len(lines)},
        data={"lines": [ln.pk for ln in lines]},
    )
    _settle_if_answered(locked)
    batch.refresh_from_db()
    return len(lines)


@transaction.atomic
def subsidy_line_dispute(*, line: SubsidyLine, actor: User, note: str) -> SubsidyLine:
    """The lender disputes one line (e.g. the interest paid is wrong); it will not be paid."""
    note = (note or "").strip()
    locked_batch = _batch_locked(line.batch)
    locked = SubsidyLine.objects.select_for_update().get(pk=line.pk)
    require(actor, "policies.subsidy_line_confirm", locked)
    errors = {}
    if not note:
        errors["dispute_note"] = _("请填写异议说明：写明哪里不对")
    elif len(note) > 300:
        errors["dispute_note"] = _("异议说明最多300个字")
    if errors:
        raise _errors(errors)
    if locked.status != SubsidyLineStatus.PENDING:
        raise ConflictError(
            "subsidy_line_answered",
            _("该明细已是「%(s)s」") % {"s": locked.get_status_display()},
            {"field": "status"},
        )
    locked.status = SubsidyLineStatus.DISPUTED
    locked.dispute_note = note
    locked.confirmed_by = actor
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "dispute_note", "confirmed_by", "confirmed_at"])
    event_record(
        SUBSIDY_BATCH,
        locked_batch,
        "line_disputed",
        actor=actor,
        note=note,
        data={"line": locked.pk, "loan": locked.loan_id},
    )
    _settle_if_answered(locked_batch)
    return locked


def subsidy_batch_grant(*, batch: SubsidyBatch, actor: User) -> list[Grant]:
    """Grant every confirmed line with an amount: one budget grant each (all or nothing).

    The lines go through ``budget.grants_commit`` together (the budget is never exceeded; if
    they do not fit, nothing is granted) and is recorded on its loan, where it lowers the cost of
    financing; the enterprises are told.
    """
    grants: list[Grant] = []

    def update(locked: SubsidyBatch) -> None:
        measure = locked.measure
        lines = list(
            SubsidyLine.objects.filter(
                batch=locked, status=SubsidyLineStatus.CONFIRMED, amount__gt=0
            ).select_related("entity", "loan")
        )
        # one locked budget check and one bulk insert for the grants, one for the loans' records
        grants.extend(
            grants_commit(
                measure=measure,
                rows=[GrantRow(ln.entity, ln.amount, subsidy_line=ln) for ln in lines],
                source=GrantSource.INTEREST_SUBSIDY,
                actor=actor,
            )
        )
        loan_subsidies_record(
            loans_amounts=[(ln.loan, ln.amount, f"policies.subsidy_line:{ln.pk}") for ln in lines],
            period_start=locked.period_start,
            period_end=locked.period_end,
            title=measure.title,
        )
        orgs = {ln.entity.organisation_id for ln in lines if ln.entity.organisation_id}
        if orgs:
            notify_on_commit(
                recipients=User.objects.filter(
                    organisation_id__in=orgs, is_active=True, api_key__isnull=True
                ),
                kind="policy_subsidy",
                title=_("您的贷款获得贴息：%(m)s") % {"m": measure.title},
                body=_("%(s)s 至 %(e)s 期间的贷款利息贴息已核定，可在贷款详情中查看。")
                % {"s": locked.period_start.isoformat(), "e": locked.period_end.isoformat()},
            )

    with transaction.atomic():
        transition_apply(SUBSIDY_BATCH, batch, "grant", actor=actor, update=update)
    return grants


@transaction.atomic
def subsidy_batch_disburse(*, batch: SubsidyBatch, voucher_no: str, actor: User) -> int:
    """Record the payment of a granted batch's grants under one voucher; return how many."""
    require(actor, "policies.subsidy_calculate", batch.measure)
    if batch.status != SubsidyBatchStatus.GRANTED:
        raise ConflictError(
            "subsidy_batch_not_granted",
            _("批次须先兑现，才能登记拨付"),
            {"field": "status"},
        )
    grants = list(
        Grant.objects.filter(subsidy_line__batch=batch, status=GrantStatus.COMMITTED).order_by("pk")
    )
    if not grants:
        raise NotFoundError("nothing_to_disburse", _("该批次没有待拨付的贴息"))
    for g in grants:
        grant_disburse(grant=g, voucher_no=voucher_no, actor=actor)
    event_record(
        SUBSIDY_BATCH,
        batch,
        "disbursed",
        actor=actor,
        note=_("登记拨付 %(n)d 笔，凭证号 %(v)s") % {"n": len(grants), "v": voucher_no.strip()},
        data={"grants": [g.pk for g in grants]},
    )
    return len(grants)
