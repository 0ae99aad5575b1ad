"""Matching: stored with reasons, recomputed, pushed once, muted by kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinrong.enterprises.models import MarketEntity, Tag
from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.notifications.models import Notification
from xinrong.policies.choices import DocumentStatus, MeasureStatus
from xinrong.policies.models import Measure, PolicyDocument, PolicyMatch
from xinrong.policies.services import matching

pytestmark = pytest.mark.django_db

TRADE = [{"field": "industry", "op": "in", "value": ["F"]}]


@pytest.fixture
def other_enterprise_user(db):
    from conftest import PASSWORD
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    return enterprise_register(
        uscc=valid_uscc(seed=2),
        name="海东测试农牧有限公司",
        legal_rep_name="韩青",
        legal_rep_id_number=valid_id_number(seed=2),
        username="ent_other",
        password=PASSWORD,
        industry_code="A03",
        division_code="632801",
    )


@pytest.fixture
def department(make_user):
    return make_user("government", ["policy_publisher"]).organisation


@pytest.fixture
def document(department):
    today = timezone.localdate()
    return PolicyDocument.objects.create(
        title="关于支持中小微企业发展的若干措施",
        doc_number="青工信〔2026〕1号",
        level="provincial",
        department=department,
        issued_on=today - dt.timedelta(days=30),
        effective_from=today - dt.timedelta(days=30),
        effective_to=today + dt.timedelta(days=365),
        status=DocumentStatus.PUBLISHED,
    )


def make_measure(document: PolicyDocument, code: str, conditions: list[dict[str, Any]], **kw: Any):
    terms: dict[str, Any] = {
        "title": f"措施{code}",
        "kind": "subsidy",
        "amount": Decimal("50000"),
        "status": MeasureStatus.PUBLISHED,
    }
    terms.update(kw)
    return Measure.objects.create(document=document, code=code, conditions=conditions, **terms)


def entity_of(user) -> MarketEntity:
    return MarketEntity.objects.get(organisation=user.organisation)


def test_match_stores_eligible_and_near_misses_with_reasons(document, enterprise_user):
    firm = entity_of(enterprise_user)  # F51 wholesale, Xining, no facts
    other = MarketEntityFactory(industry_code="C13", division_code="632801")
    open_to_trade = make_measure(document, "M1", TRADE)
    needs_grade = make_measure(
        document, "M2", [*TRADE, {"field": "tax_grade", "op": ">=", "value": "B"}]
    )
    far = make_measure(
        document,
        "M3",
        [
            {"field": "industry", "op": "in", "value": ["A"]},
            {"field": "years_in_business", "op": ">=", "value": 3},
        ],
    )
    stats = matching.match_all(push=False)
    assert stats.measures == 3 and stats.entities >= 2
    row = PolicyMatch.objects.get(measure=open_to_trade, entity=firm)
    assert row.eligible and row.missing == [] and row.estimated_amount == Decimal("50000.00")
    assert row.first_matched_at is not None and row.measure_version == 1
    near = PolicyMatch.objects.get(measure=needs_grade, entity=firm)
    assert not near.eligible
    assert near.missing == [
        {"field": "tax_grade", "text": "平台暂无纳税信用等级信息（纳税信用等级需达到B级）"}
    ]
    # the manufacturer misses the industry of M1 (one condition: a near miss), both of M2
    assert not PolicyMatch.objects.get(measure=open_to_trade, entity=other).eligible
    assert not PolicyMatch.objects.filter(measure=needs_grade, entity=other).exists()
    assert not PolicyMatch.objects.filter(measure=far).exists()

    # the terms change: the pair no longer matches and, never pushed, is deleted
    first = row.first_matched_at
    open_to_trade.conditions = [
        {"field": "industry", "op": "in", "value": ["A"]},
        {"field": "region", "op": "in", "value": ["110000"]},
    ]
    open_to_trade.save()
    stats = matching.measure_rematch(measure=open_to_trade)
    assert stats.measures == 1 and stats.deleted >= 1
    assert not PolicyMatch.objects.filter(measure=open_to_trade, entity=firm).exists()
    open_to_trade.conditions = TRADE
    open_to_trade.save()
    matching.measure_rematch(measure=open_to_trade)
    assert PolicyMatch.objects.get(measure=open_to_trade, entity=firm).first_matched_at >= first


def test_measures_not_in_force_are_not_judged(document):
    MarketEntityFactory()
    draft = make_measure(document, "D1", [], status=MeasureStatus.DRAFT)
    ended = make_measure(document, "D2", [], window_end=timezone.localdate() - dt.timedelta(days=1))
    live = make_measure(document, "D3", [])
    assert [m.pk for m in matching.measures_in_force()] == [live.pk]
    matching.match_all(push=False)
    assert not PolicyMatch.objects.filter(measure__in=[draft, ended]).exists()
    document.status = DocumentStatus.WITHDRAWN
    document.save()
    assert matching.match_all(push=False).measures == 0
    # a withdrawn measure's rows stay as history
    assert PolicyMatch.objects.filter(measure=live).exists()


def test_push_happens_once(document, enterprise_user):
    firm = entity_of(enterprise_user)
    measure = make_measure(document, "P1", TRADE)
    matching.match_all()
    matching.match_all()
    notices = Notification.objects.filter(recipient=enterprise_user, kind=matching.PUSH_KIND)
    assert notices.count() == 1
    assert "措施P1" in notices.get().title and notices.get().link == "/policies/mine/"
    row = PolicyMatch.objects.get(measure=measure, entity=firm)
    pushed_at = row.pushed_at
    assert pushed_at is not None

    # no longer eligible: the pushed pair stays (not eligible), eligible again: no new push
    measure.conditions = [
        {"field": "industry", "op": "in", "value": ["A"]},
        {"field": "region", "op": "in", "value": ["110000"]},
    ]
    measure.save()
    matching.measure_rematch(measure=measure)
    row.refresh_from_db()
    assert not row.eligible and row.pushed_at == pushed_at and len(row.missing) == 2
    measure.conditions = TRADE
    measure.save()
    matching.measure_rematch(measure=measure)
    row.refresh_from_db()
    assert row.eligible and row.pushed_at == pushed_at
    assert notices.count() == 1


def test_one_notice_per_measure_reaches_every_user_of_every_new_entity(
    document, enterprise_user, other_enterprise_user
):
    make_measure(document, "P2", [])
    stats = matching.match_all()
    assert stats.pushed == 2
    assert Notification.objects.filter(kind=matching.PUSH_KIND).count() == 2
    assert set(
        Notification.objects.filter(kind=matching.PUSH_KIND).values_list("recipient", flat=True)
    ) == {enterprise_user.pk, other_enterprise_user.pk}


def test_mute_stops_pushes_of_a_kind_until_unmuted(document, enterprise_user):
    firm = entity_of(enterprise_user)
    matching.mute_set(entity=firm, kind="subsidy", muted=True, actor=enterprise_user)
    assert matching.muted_kinds(entity=firm) == {"subsidy"}
    subsidy = make_measure(document, "U1", TRADE)
    award = make_measure(document, "U2", TRADE, kind="award")
    matching.match_all()
    titles = list(
        Notification.objects.filter(recipient=enterprise_user).values_list("title", flat=True)
    )
    assert len(titles) == 1 and "措施U2" in titles[0]
    assert PolicyMatch.objects.get(measure=subsidy, entity=firm).pushed_at is None
    assert PolicyMatch.objects.get(measure=award, entity=firm).pushed_at is not None
    matching.mute_set(entity=firm, kind="subsidy", muted=False, actor=enterprise_user)
    matching.match_all()
    assert Notification.objects.filter(recipient=enterprise_user).count() == 2


def test_mute_refuses_an_unknown_kind(enterprise_user):
    from xinrong.common.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        matching.mute_set(entity=entity_of(enterprise_user), kind="bogus", muted=True)
    assert exc.value.status == 422 and "措施类型" in exc.value.message


def test_tags_and_estimates_by_tax_paid(document):
    tag = Tag.objects.create(code="zjtx", name="专精特新")
    tagged = MarketEntityFactory()
    tagged.tags.add(tag)
    plain = MarketEntityFactory()
    measure = make_measure(
        document,
        "T1",
        [{"field": "tags", "op": "has_any", "value": ["zjtx"]}],
        kind="tax_relief",
        amount=None,
        ratio=Decimal("0.1"),
        cap=Decimal("1000"),
    )
    matching.match_all(push=False)
    row = PolicyMatch.objects.get(measure=measure, entity=tagged)
    # no tax facts: the base is unknown, so is the estimate
    assert row.eligible and row.estimated_amount is None
    near = PolicyMatch.objects.get(measure=measure, entity=plain)
    assert near.missing == [{"field": "tags", "text": "需满足：具有“专精特新”标签"}]


def test_pass_is_bulk_not_per_entity(document):
    make_measure(document, "B1", [])
    make_measure(document, "B2", [{"field": "entity_type", "op": "in", "value": ["enterprise"]}])
    MarketEntityFactory.create_batch(3)
    matching.match_all(push=False)
    PolicyMatch.objects.all().delete()
    with CaptureQueriesContext(connection) as few:
        matching.match_all(push=False)
    MarketEntityFactory.create_batch(30)
    PolicyMatch.objects.all().delete()
    with CaptureQueriesContext(connection) as many:
        matching.match_all(push=False)
    assert PolicyMatch.objects.count() == 2 * 33
    assert len(many.captured_queries) == len(few.captured_queries)


def test_match_needed_after_changes(document):
    MarketEntityFactory()
    measure = make_measure(document, "N1", [])
    assert matching.match_needed()
    matching.match_all(push=False)
    assert not matching.match_needed()
    measure.title = "新名称"
    measure.save()
    assert matching.match_needed()
    matching.match_all(push=False)
    assert matching.match_needed(now=timezone.now() + dt.timedelta(days=2))


def test_sweep_task_skips_when_nothing_changed(document):
    from xinrong.policies.tasks import policy_match_sweep

    MarketEntityFactory()
    make_measure(document, "S1", [])
    assert policy_match_sweep.call()["measures"] == 1
    assert policy_match_sweep.call() == {"skipped": True}


def test_entity_columns_from_the_registry():
    from xinrong.policies.evaluate import columns, entity_columns

    tag = Tag.objects.create(code="gxjs", name="高新技术企业")
    firm = MarketEntityFactory(
        size_class="small",
        industry_code="C13",
        division_code="632801",
        established_on=timezone.localdate() - dt.timedelta(days=round(3 * 365.25)),
        employees=12,
    )
    firm.tags.add(tag)
    bare = MarketEntityFactory(size_class="", employees=None)
    cols = entity_columns()
    assert set(columns()) <= set(cols.columns)
    row = cols.loc[firm.pk]
    assert row["size_class"] == "small" and row["industry_code"] == "C13"
    assert row["division_code"] == "632801" and row["tags"] == ("gxjs",)
    assert abs(row["years_in_business"] - 3.0) < 0.01 and row["employees"] == 12
    # no facts: counts of adverse events are 0, grades and series unknown, no platform loan
    assert row["dishonest"] == 0 and row["has_loan"] == 0 and row["first_loan"] == 0
    assert row["tax_grade"] is None and row["credit_grade"] is None
    other = cols.loc[bare.pk]
    assert other["size_class"] == "" and other["tags"] == () and np.isnan(other["employees"])
    assert list(entity_columns([firm.pk]).index) == [firm.pk]


def test_near_miss_texts_when_far_entities_come_first(document):
    """Entities missing two conditions (not kept) before the kept ones: the texts of each kept
    row are its own (the demo's pass once failed here, indexing the kept rows twice)."""
    far = MarketEntityFactory.create_batch(6, industry_code="A01", division_code="632801")
    near = MarketEntityFactory(industry_code="C13", division_code="630102")
    fits = MarketEntityFactory(industry_code="F51", division_code="630102")
    measure = make_measure(
        document,
        "K1",
        [
            {"field": "industry", "op": "in", "value": ["F"]},
            {"field": "region", "op": "in", "value": ["6301"]},
        ],
    )
    matching.match_all(push=False)
    rows = {r.entity_id: r for r in PolicyMatch.objects.filter(measure=measure)}
    assert not any(e.pk in rows for e in far)
    assert rows[fits.pk].eligible and rows[fits.pk].missing == []
    assert not rows[near.pk].eligible
    assert [m["field"] for m in rows[near.pk].missing] == ["industry"]


def test_near_miss_reasons_when_far_misses_come_first(document):
    """Regression (found by the issue 14 journey): the failed conditions of the kept entities
    were indexed twice by their positions, so a pass crashed (or named the wrong reasons) once
    an entity judged far from a measure sat before a kept one."""
    far = [MarketEntityFactory(industry_code="C13", division_code="110101") for _ in range(3)]
    near = MarketEntityFactory(industry_code="A03", division_code="110101")
    eligible = MarketEntityFactory(industry_code="A01", division_code="632802")
    measure = make_measure(
        document,
        "M9",
        [
            {"field": "industry", "op": "in", "value": ["A"]},
            {"field": "region", "op": "in", "value": ["632800"]},
        ],
    )
    matching.measure_rematch(measure=measure)
    assert not PolicyMatch.objects.filter(measure=measure, entity__in=far).exists()
    miss = PolicyMatch.objects.get(measure=measure, entity=near)
    assert not miss.eligible
    assert [m["field"] for m in miss.missing] == ["region"]
    hit = PolicyMatch.objects.get(measure=measure, entity=eligible)
    assert hit.eligible and hit.missing == []
