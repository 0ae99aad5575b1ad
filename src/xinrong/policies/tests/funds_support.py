"""Test helpers of the funds tests: a department, finance, a measure, eligible enterprises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.policies.choices import Delivery, MeasureKind, MeasureStatus, PolicyLevel
from xinrong.policies.models import Measure, PolicyDocument, PolicyMatch

PASSWORD = "Test-pass-2026"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class World:
    department: Any
    publisher: Any
    finance_org: Any
    finance: Any
    measure: Measure


_counter = {"n": 0}


def _n() -> int:
    _counter["n"] += 1
    return _counter["n"]


def world(
    *,
    budget: Decimal | None = Decimal("100000.00"),
    delivery: str = Delivery.APPLY,
    amount: Decimal | None = None,
    cap: Decimal | None = Decimal("50000.00"),
    materials: list[Any] | None = None,
    kind: str = MeasureKind.SUBSIDY,
) -> World:
    n = _n()
    department = organisation_create(name=f"青海省工业和信息化厅{n}", kind="government")
    finance_org = organisation_create(name=f"青海省财政厅{n}", kind="government")
    publisher = user_create(
        username=f"pub{n}",
        password=PASSWORD,
        organisation=department,
        roles=["policy_publisher"],
        display_name="政策发布员",
    )
    finance = user_create(
        username=f"fin{n}",
        password=PASSWORD,
        organisation=finance_org,
        roles=["fund_approver"],
        display_name="财政审批人",
    )
    today = timezone.localdate()
    document = PolicyDocument.objects.create(
        title=f"关于支持专精特新中小企业高质量发展的若干措施{n}",
        doc_number=f"青工信发〔2026〕{n}号",
        level=PolicyLevel.PROVINCIAL,
        department=department,
        issued_on=today - dt.timedelta(days=30),
        effective_from=today - dt.timedelta(days=30),
        status="published",
    )
    measure = Measure.objects.create(
        document=document,
        code=f"M-{n}",
        title=f"专精特新企业奖励{n}",
        kind=kind,
        delivery=delivery,
        amount=amount,
        cap=cap,
        budget=budget,
        window_start=today - dt.timedelta(days=10),
        window_end=today + dt.timedelta(days=30),
        materials=["营业执照", {"name": "项目申报书"}] if materials is None else materials,
        status=MeasureStatus.PUBLISHED,
    )
    return World(department, publisher, finance_org, finance, measure)


def enterprise(seed: int, *, division: str = "630102") -> Any:
    """Register an enterprise (its owner user is returned; ``.organisation.market_entity``)."""
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    return enterprise_register(
        uscc=valid_uscc(seed=seed, division=division),
        name=f"青海测试企业{seed}有限公司",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=seed),
        username=f"ent{seed}",
        password=PASSWORD,
        industry_code="C13",
        division_code=division,
    )


def eligible(measure: Measure, entity: Any, *, estimated: Decimal | None = None) -> PolicyMatch:
    now = timezone.now()
    return PolicyMatch.objects.create(
        measure=measure,
        entity=entity,
        measure_version=measure.version,
        eligible=True,
        estimated_amount=estimated,
        first_matched_at=now,
        matched_at=now,
    )


def apply(w: World, owner: Any, requested: str = "30000.00") -> Any:
    from xinrong.policies.services.funds import fund_apply

    return fund_apply(
        actor=owner,
        measure=w.measure,
        requested=requested,
        purpose="购置检测设备",
        materials={"营业执照": pdf("执照.pdf"), "项目申报书": pdf("申报书.pdf")},
    )
