"""The demo's policy work in motion, made through the platform's own services.

After the Qinghai policy set is loaded: the matching pass (and its pushes), special-fund
applications at every step of their approval, 免申即享 lists (one waiting for the department,
others confirmed and granted), 贴息 batches (one waiting for the banks, one granted) and the
central bank's quotas with their use on platform loans. Every role then finds real work on first
login, and the evidence page shows figures that were computed, not invented.

Idempotent: a second run finds the applications and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ApplicationError
from xinrong.marketplace.models import Loan
from xinrong.policies.choices import (
    Delivery,
    MeasureKind,
    MeasureStatus,
    PbocTool,
)
from xinrong.policies.models import (
    FundApplication,
    Measure,
    PbocQuota,
    PolicyMatch,
    SubsidyBatch,
)

MONEY_KINDS = (MeasureKind.SUBSIDY, MeasureKind.AWARD, MeasureKind.GUARANTEE_FEE_SUBSIDY)
# the steps the demo's applications stop at, in order, repeated over the chosen entities
STAGES = ("submitted", "department", "approved", "disbursed", "disbursed", "rejected")
PER_MEASURE = 12


def _pdf(title: str) -> bytes:
    """A small real PDF (the material's cover page)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(title)
    pdf.drawString(72, 760, "xinrong demo material")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _applicant(entity_org_id: int | None) -> User | None:
    if entity_org_id is None:
        return None
    return User.objects.filter(organisation_id=entity_org_id, is_active=True).order_by("id").first()


def _requested(measure: Measure) -> Decimal:
    for value in (measure.amount, measure.cap):
        if value is not None:
            return value
    return Decimal("50000.00")


def _seed_applications(
    rng: random.Random, publisher: User, finance: User, report: dict[str, Any]
) -> None:
    from xinrong.policies.services import funds as fund_services

    measures = list(
        Measure.objects.filter(
            document__department_id=publisher.organisation_id,
            status=MeasureStatus.PUBLISHED,
            delivery=Delivery.APPLY,
            kind__in=MONEY_KINDS,
        ).order_by("code")
    )
    today = timezone.localdate()
    made = 0
    for measure in measures:
        if fund_services.measure_open_problems(measure, today):
            continue
        rows = list(
            PolicyMatch.objects.filter(
                measure=measure, eligible=True, entity__organisation__isnull=False
            )
            .order_by("entity_id")
            .values_list("entity_id", "entity__organisation_id")
        )
        rng.shuffle(rows)
        stage_index = 0
        for _entity_id, org_id in rows:
            if stage_index >= PER_MEASURE:
                break
            applicant = _applicant(org_id)
            if applicant is None:
                continue
            materials = {
                name: SimpleUploadedFile(f"{name}.pdf", _pdf(name), "application/pdf")
                for name in fund_services.material_names(measure)
            }
            try:
                application = fund_services.fund_apply(
                    actor=applicant,
                    measure=measure,
                    requested=_requested(measure),
                    purpose="用于研发投入和设备更新，扩大生产。",
                    materials=materials,
                )
            except ApplicationError:
                continue
            stage = STAGES[stage_index % len(STAGES)]
            stage_index += 1
            made += 1
            _advance(application, stage, publisher, finance)
            _backdate(application, rng)
    report["fund_applications"] = made


def _advance(application: FundApplication, stage: str, publisher: User, finance: User) -> None:
    from xinrong.policies.services import funds as fund_services

    if stage == "submitted":
        return
    if stage == "rejected":
        fund_services.fund_decide(
            application=application,
            actor=publisher,
            approved=False,
            note="申报材料显示研发投入不足，不符合本措施的支持方向。",
        )
        return
    fund_services.fund_decide(
        application=application,
        actor=publisher,
        approved=True,
        amount=application.requested,
        note="材料齐全，同意推荐。",
    )
    if stage == "department":
        return
    application.refresh_from_db()
    try:
        fund_services.fund_decide(
            application=application,
            actor=finance,
            approved=True,
            amount=application.requested,
            note="经审核，同意拨付。",
        )
    except ApplicationError:
        return  # the budget is spent: the case waits at finance, as it would live
    if stage == "disbursed":
        application.refresh_from_db()
        fund_services.fund_disburse(
            application=application,
            actor=finance,
            voucher_no=f"QHCZ{application.reference_no[-8:]}",
        )


def _backdate(application: FundApplication, rng: random.Random) -> None:
    """Spread the demo's applications over the last months (decisions take days, as live)."""
    application.refresh_from_db()
    now = timezone.now()
    submitted = now - dt.timedelta(days=rng.uniform(20, 120))
    from xinrong.policies.services.funds import _reference_no

    # the number carries the day it was submitted, as a live one does
    changes: dict[str, Any] = {"submitted_at": submitted, "reference_no": _reference_no(submitted)}
    if application.decided_at is not None:
        decided = submitted + dt.timedelta(days=rng.uniform(3, 18))
        changes["decided_at"] = decided
        if application.disbursed_at is not None:
            changes["disbursed_at"] = decided + dt.timedelta(days=rng.uniform(2, 10))
    FundApplication.objects.filter(pk=application.pk).update(**changes)
    # the notices already sent name the number: they follow it
    from django.db.models import Q, Value
    from django.db.models.functions import Replace

    from xinrong.notifications.models import Notification

    old, new = Value(application.reference_no), Value(changes["reference_no"])
    Notification.objects.filter(
        Q(title__contains=application.reference_no) | Q(body__contains=application.reference_no)
    ).update(title=Replace("title", old, new), body=Replace("body", old, new))


def _seed_auto_lists(publisher: User, operator: User | None, report: dict[str, Any]) -> None:
    """The department's own 免申即享 list waits for it; the others were confirmed and granted."""
    from xinrong.policies.services import auto_grant

    automatic = Measure.objects.filter(
        status=MeasureStatus.PUBLISHED, delivery=Delivery.AUTOMATIC
    ).exclude(amount__isnull=True, ratio__isnull=True)
    drafts = confirmed = 0
    for measure in automatic.order_by("code"):
        own = measure.document.department_id == publisher.organisation_id
        actor = publisher if own else operator
        if actor is None:
            continue
        try:
            auto_list = auto_grant.auto_list_draw(measure=measure, actor=actor)
        except ApplicationError:
            continue
        if own:
            drafts += 1
            continue
        entries = list(auto_list.entries.filter(excluded=False).order_by("entity_id")[:1])
        for entry in entries:
            auto_grant.auto_entry_exclude(
                auto_list=auto_list,
                entry=entry,
                actor=actor,
                reason="该企业已享受同类补助，按规定不重复享受。",
            )
        try:
            auto_grant.auto_list_confirm(
                auto_list=auto_list, actor=actor, note="经部门核对名单，予以兑现。"
            )
            confirmed += 1
        except ApplicationError:
            continue
    report["auto_lists_waiting"] = drafts
    report["auto_lists_granted"] = confirmed


def _quarter_before(day: dt.date, back: int) -> tuple[dt.date, dt.date]:
    """The calendar quarter ``back`` quarters before the one holding ``day``."""
    index = (day.year * 4 + (day.month - 1) // 3) - back
    year, q = divmod(index, 4)
    start = dt.date(year, q * 3 + 1, 1)
    end_month = start.month + 2
    end = dt.date(year, end_month, 1) + dt.timedelta(days=32)
    return start, end.replace(day=1) - dt.timedelta(days=1)


def _confirmers(institution_ids: set[int]) -> list[User]:
    """One reviewer of each institution; an institution without one gets a demo reviewer
    account (no password), as the marketplace demo gives every borrower its owner."""
    from django.contrib.auth.hashers import make_password

    from xinrong.accounts.models import UserRole

    have = set(
        User.objects.filter(
            organisation_id__in=institution_ids,
            roles__role__in=(Role.INSTITUTION_ADMIN, Role.REVIEWER),
        ).values_list("organisation_id", flat=True)
    )
    missing = sorted(institution_ids - have)
    if missing:
        User.objects.bulk_create(
            [
                User(
                    username=f"reviewer_{org_id}",
                    organisation_id=org_id,
                    display_name="审批人员",
                    password=make_password(None),
                )
                for org_id in missing
            ]
        )
        UserRole.objects.bulk_create(
            [
                UserRole(user_id=pk, role=Role.REVIEWER)
                for pk in User.objects.filter(
                    username__in=[f"reviewer_{o}" for o in missing]
                ).values_list("pk", flat=True)
            ]
        )
    return list(
        User.objects.filter(
            organisation_id__in=institution_ids,
            is_active=True,
            roles__role__in=(Role.INSTITUTION_ADMIN, Role.REVIEWER),
        )
        .distinct()
        .order_by("id")
    )


def _seed_subsidies(publisher: User, finance: User, report: dict[str, Any]) -> None:
    """Last quarter's 贴息 of finance's measure waits for the banks; the quarter before of the
    department's measure was confirmed by the banks and granted."""
    from xinrong.policies.services import subsidy as subsidy_services

    today = timezone.localdate()
    made = granted = 0
    plans = (
        (finance, 1, False),  # last quarter: calculated, waiting for the lenders
        (publisher, 2, True),  # the quarter before: confirmed and granted
    )
    for actor, back, settle in plans:
        measure = (
            Measure.objects.filter(
                document__department_id=actor.organisation_id,
                status=MeasureStatus.PUBLISHED,
                kind=MeasureKind.INTEREST_SUBSIDY,
                ratio__isnull=False,
            )
            .order_by("code")
            .first()
        )
        if measure is None:
            continue
        start, end = _quarter_before(today, back)
        try:
            batch = subsidy_services.subsidy_batch_calculate(
                measure=measure, period_start=start, period_end=end, actor=actor
            )
        except ApplicationError:
            continue
        made += 1
        if not settle:
            continue
        institutions = set(batch.lines.values_list("institution_id", flat=True))
        done: set[int] = set()
        for user in _confirmers(institutions):
            if user.organisation_id in done:
                continue
            done.add(int(user.organisation_id or 0))
            subsidy_services.subsidy_lines_confirm(batch=batch, actor=user)
        batch.refresh_from_db()
        try:
            subsidy_services.subsidy_batch_grant(batch=batch, actor=actor)
            granted += 1
        except ApplicationError:
            continue
    report["subsidy_batches"] = made
    report["subsidy_batches_granted"] = granted


QUOTAS = (
    (PbocTool.RELENDING_SMALL, Decimal("800000000.00"), Decimal("1.75")),
    (PbocTool.REDISCOUNT, Decimal("300000000.00"), Decimal("1.75")),
    (PbocTool.INCLUSIVE_TOOL, Decimal("50000000.00"), None),
)


def _seed_pboc(operator: User | None, rng: random.Random, report: dict[str, Any]) -> None:
    """Each bank's quotas for this year, and the platform loans it funded under 支小再贷款."""
    from xinrong.policies.services import pboc as pboc_services

    if operator is None or PbocQuota.objects.exists():
        return
    year = timezone.localdate().year
    quotas = uses = 0
    banks = Organisation.objects.filter(kind=OrgKind.BANK).order_by("id")
    for bank in banks:
        scale = Decimal(rng.choice((1, 2, 3)))
        first = None
        for tool, amount, rate in QUOTAS:
            quota = pboc_services.quota_set(
                institution=bank,
                tool=tool,
                year=year,
                quota=amount * scale / 4,
                rate=rate,
                actor=operator,
                note="人民银行青海省分行下达",
            )
            quotas += 1
            first = first or quota
        if first is None:
            continue
        loans = list(
            Loan.objects.filter(institution=bank, disbursed_on__year=year).order_by("id")[:400]
        )
        for loan in loans:
            if rng.random() > 0.35:
                continue
            try:
                pboc_services.quota_use_record(
                    quota=first,
                    loan=loan,
                    amount=loan.principal,
                    used_on=loan.disbursed_on,
                    actor=operator,
                )
            except ApplicationError:
                break
            uses += 1
    report["pboc_quotas"] = quotas
    report["pboc_uses"] = uses


def seed_policy_activity(seed_value: int) -> dict[str, Any]:
    """Run matching and put applications, lists, batches and quotas in motion (once)."""
    from xinrong.policies.services.matching import match_all

    report: dict[str, Any] = {}
    if FundApplication.objects.exists() or SubsidyBatch.objects.exists():
        return report
    stats = match_all()
    report["matching"] = stats.as_dict()
    publisher = _user("gov_policy")
    finance = _user("gov_fund")
    operator = _user("operator")
    if publisher is None or finance is None:
        return report
    rng = random.Random(f"policies:{seed_value}")
    _seed_applications(rng, publisher, finance, report)
    _seed_auto_lists(publisher, operator, report)
    _seed_subsidies(publisher, finance, report)
    _seed_pboc(operator, rng, report)
    return report
