"""Demo data of the white and black lists: the black list from the demo's 失信 and serious
penalty facts, a confirmed fraud (with history) and one waiting for ``operator``, the white-list
criteria, consenting enterprises, and so prospects for ``loan_officer``'s bank."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction
from django.utils import timezone


def seed_lists(seed_value: int) -> dict[str, Any]:
    """Seed the lists through their services; idempotent (nothing when criteria exist)."""
    from xinrong.accounts.models import User
    from xinrong.credit.models import (
        BlacklistEntry,
        CreditProfile,
        FraudReport,
        RecommendConsent,
        WhitelistCriteria,
    )
    from xinrong.credit.services import lists as services

    if WhitelistCriteria.objects.exists():
        return {}
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    operator, officer = users.get("operator"), users.get("loan_officer")
    enterprise = users.get("ent_owner")  # the demo enterprise owner
    if operator is None or officer is None:
        return {}
    rng = random.Random(f"lists:{seed_value}")  # noqa: S311  (demo data, reproducible)
    report: dict[str, Any] = {}
    with transaction.atomic():
        black = services.blacklist_sync()
        report["black_from_facts"] = black.listed
        own_id = getattr(getattr(enterprise, "organisation", None), "market_entity", None)
        own_pk = own_id.pk if own_id is not None else None
        listed = set(
            BlacklistEntry.objects.filter(cleared_at__isnull=True).values_list(
                "entity_id", flat=True
            )
        )
        # candidates for fraud: graded entities, not the demo enterprise, not listed already
        pool = list(
            CreditProfile.objects.filter(is_latest=True)
            .exclude(entity_id__in=sorted(listed | {own_pk} if own_pk else listed))
            .order_by("entity_id")
            .values_list("entity__uscc", "entity_id")[:400]
        )
        rng.shuffle(pool)
        if len(pool) >= 3:
            confirmed = services.fraud_report_file(
                actor=officer,
                uscc=pool[0][0],
                description="申请贷款时提供伪造的购销合同和银行流水，经本行贷后核查发现。",
            )
            services.fraud_confirm(
                actor=operator, report=confirmed, note="经核实，合同相对方否认交易，流水系伪造。"
            )
            dismissed = services.fraud_report_file(
                actor=officer,
                uscc=pool[1][0],
                description="企业以同一批存货向两家机构重复质押，疑似骗贷。",
            )
            services.fraud_dismiss(
                actor=operator, report=dismissed, note="查明为质押登记延误，不构成欺诈。"
            )
            services.fraud_report_file(
                actor=officer,
                uscc=pool[2][0],
                description="企业法定代表人冒用他人身份证件办理贷款，已向公安机关报案。",
            )
        report["fraud_reports"] = FraudReport.objects.count()

        services.whitelist_criteria_set(actor=operator, min_grade="A", min_loans_repaid=0)
        # about a third of the white-listed entities agree to be recommended (default: no)
        from xinrong.credit.models import WhitelistEntry

        white = list(
            WhitelistEntry.objects.filter(cleared_at__isnull=True)
            .order_by("entity_id")
            .values_list("entity_id", flat=True)
        )
        now = timezone.now()
        agreed = [e for e in white if rng.random() < 0.35]
        RecommendConsent.objects.bulk_create(
            [RecommendConsent(entity_id=e, consented=True, recorded_at=now) for e in agreed],
            batch_size=1000,
        )
        report["white"] = len(white)
        report["consenting"] = len(agreed)
    return report
