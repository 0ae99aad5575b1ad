"""White and black lists (issue 16): sources, one-vote veto everywhere, delisting, history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xinrong.common.errors import PermissionDeniedError
from xinrong.credit.models import (
    BlacklistEntry,
    BlacklistSource,
    CreditProfile,
    FraudStatus,
    ScoreModel,
    WhitelistEntry,
)
from xinrong.credit.selectors import lists as list_selectors
from xinrong.credit.services import lists as list_services
from xinrong.credit.tests.conftest import deliver
from xinrong.datahub.services.sources import source_create

pytestmark = pytest.mark.django_db

JUDICIAL = "统一社会信用代码,案号,诉讼地位,立案日期,案件状态,失信被执行人"


@pytest.fixture
def court(make_user):
    clerk = make_user("government", ["data_provider"], username="court_clerk")
    clerk.source = source_create(
        code="court",
        name="青海省高级人民法院",
        organisation=clerk.organisation,
        categories=["judicial"],
    )
    return clerk


def _judicial(court, entity, case_no, dishonest, filed="2024-02-01"):
    return deliver(
        court.source,
        "judicial",
        JUDICIAL,
        [f"{entity.uscc},{case_no},executed,{filed},enforcing,{dishonest}"],
    )


def _active(entity):
    return list(BlacklistEntry.objects.filter(entity=entity, cleared_at__isnull=True))


def test_dishonest_fact_lists_and_a_later_delivery_of_the_case_clears_with_history(entity, court):
    _judicial(court, entity, "(2024)青0102执1号", "是")
    r = list_services.blacklist_sync()
    assert r.listed == 1
    (entry,) = _active(entity)
    assert entry.source == BlacklistSource.DISHONEST
    assert "(2024)青0102执1号" in entry.reason
    assert list_selectors.is_blacklisted(entity.pk)
    assert list_selectors.blacklisted_ids([entity.pk, 999999]) == {entity.pk}
    # a re-run lists nothing twice
    assert list_services.blacklist_sync() == list_services.SyncResult(listed=0, cleared=0)

    # the court removes the entity: the same case delivered again with 否
    _judicial(court, entity, "(2024)青0102执1号", "否", filed="2024-02-01")
    r = list_services.blacklist_sync(entity_ids=[entity.pk])
    assert r.cleared == 1 and not _active(entity)
    assert not list_selectors.is_blacklisted(entity.pk)
    (old,) = BlacklistEntry.objects.filter(entity=entity)  # history kept, never deleted
    assert old.cleared_at is not None and "失信被执行人" in old.cleared_reason
    # listed at a moment in the past: the veto as it was
    between = old.listed_at + (old.cleared_at - old.listed_at) / 2
    assert list_selectors.is_blacklisted(entity.pk, on=between)


def test_serious_penalty_lists_minor_does_not(entity, make_penalty):
    make_penalty("minor", "2025-05-01")
    list_services.blacklist_sync()
    assert not _active(entity)
    make_penalty("serious", "2025-05-01")
    list_services.blacklist_sync()
    (entry,) = _active(entity)
    assert entry.source == BlacklistSource.SERIOUS_VIOLATION and "严重行政处罚" in entry.reason


def test_fraud_report_confirmed_lists_dismissed_does_not_and_region_decides(
    entity, bank_officer, operator, substation_operator
):
    with pytest.raises(ValidationError) as err:
        list_services.fraud_report_file(
            actor=bank_officer, uscc="91630000XXXXXXXXXX", description="短"
        )
    assert set(err.value.message_dict) >= {"uscc", "description"}  # all errors at once
    report = list_services.fraud_report_file(
        actor=bank_officer, uscc=entity.uscc, description="2025年3月提供虚假购销合同骗取贷款"
    )
    assert report.status == FraudStatus.REPORTED
    with pytest.raises(PermissionDeniedError):  # 格尔木 sub-station: not its region
        list_services.fraud_confirm(actor=substation_operator, report=report, note="确认")
    with pytest.raises(PermissionDeniedError):  # the reporting bank cannot decide
        list_services.fraud_confirm(actor=bank_officer, report=report, note="确认")
    list_services.fraud_confirm(actor=operator, report=report, note="核实合同系伪造")
    report.refresh_from_db()
    assert report.status == FraudStatus.CONFIRMED and report.decided_at is not None
    (entry,) = _active(entity)
    assert entry.source == BlacklistSource.FRAUD and entry.source_ref == f"fraud:{report.pk}"
    assert [e.kind for e in report.events.all()] == ["reported", "confirmed"]

    other = list_services.fraud_report_file(
        actor=bank_officer, uscc=entity.uscc, description="再次举报：虚构交易流水骗取贷款"
    )
    list_services.fraud_dismiss(actor=operator, report=other, note="证据不足")
    assert len(_active(entity)) == 1


def _grade(entity, grade):
    model = ScoreModel.objects.first() or ScoreModel.objects.create(version=1, name="t", card={})
    CreditProfile.objects.filter(entity=entity).update(is_latest=False)
    return CreditProfile.objects.create(
        entity=entity,
        model=model,
        score=700,
        grade=grade,
        is_latest=True,
        computed_at=timezone.now(),
    )


def test_white_list_follows_criteria_and_the_veto_and_prospects_need_consent(
    entity, operator, substation_operator, bank_officer, enterprise_user, court
):
    _grade(entity, "AA")
    with pytest.raises(ValidationError) as err:
        list_services.whitelist_criteria_set(actor=operator, min_grade="Z", min_loans_repaid=-1)
    assert set(err.value.message_dict) == {"min_grade", "min_loans_repaid"}
    with pytest.raises(PermissionDeniedError):  # a sub-station cannot set the criteria
        list_services.whitelist_criteria_set(
            actor=substation_operator, min_grade="A", min_loans_repaid=0
        )
    list_services.whitelist_criteria_set(actor=operator, min_grade="AAA", min_loans_repaid=0)
    assert not WhitelistEntry.objects.exists()  # AA is below AAA
    list_services.whitelist_criteria_set(actor=operator, min_grade="A", min_loans_repaid=0)
    (white,) = WhitelistEntry.objects.filter(cleared_at__isnull=True)
    assert white.entity_id == entity.pk and white.grade == "AA"

    # prospects: only with the enterprise's consent (default: off)
    assert list(list_selectors.prospects(user=bank_officer)) == []
    list_services.recommend_consent_set(actor=enterprise_user, entity=entity, consented=True)
    assert [p.entity_id for p in list_selectors.prospects(user=bank_officer)] == [entity.pk]
    with pytest.raises(PermissionDeniedError):
        list_services.recommend_consent_set(actor=bank_officer, entity=entity, consented=True)

    # a loan requirement it does not meet takes it off (history kept)
    list_services.whitelist_criteria_set(actor=operator, min_grade="A", min_loans_repaid=1)
    assert not WhitelistEntry.objects.filter(cleared_at__isnull=True).exists()
    list_services.whitelist_criteria_set(actor=operator, min_grade="A", min_loans_repaid=0)
    assert WhitelistEntry.objects.filter(cleared_at__isnull=True).count() == 1
    assert WhitelistEntry.objects.count() == 2

    # the veto: black-listed → off the white list and out of the prospects
    _judicial(court, entity, "(2024)青0102执9号", "是")
    list_services.lists_sweep()
    assert not WhitelistEntry.objects.filter(cleared_at__isnull=True).exists()
    assert list(list_selectors.prospects(user=bank_officer)) == []


def test_veto_excludes_from_matching(entity, enterprise_user, bank_officer, operator, court):
    from xinrong.marketplace import matching
    from xinrong.marketplace.selectors import demands as demand_selectors
    from xinrong.marketplace.services import demands as demand_services
    from xinrong.marketplace.tests.factories import demand_in, published_product

    matching.catalogue_forget()
    demand = demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())
    product = published_product(bank_officer, operator, code="OK-1")
    assert [m.product_id for m in demand_selectors.demand_matches(demand=demand).matches] == [
        product.pk
    ]
    _judicial(court, entity, "(2024)青0102执2号", "是")
    list_services.blacklist_sync()
    result = demand_selectors.demand_matches(demand=demand, with_excluded=True)
    assert result.matches == [] and result.eligible_count == 0
    (exc,) = result.excluded
    assert exc.code == "eligibility" and "一票否决" in exc.message and "执2号" in exc.message
    matching.catalogue_forget()


def test_veto_excludes_from_policy_eligibility(entity, court):
    from xinrong.policies.evaluate import VETO_COLUMN, entity_columns, evaluate_matrix, evaluate_one

    conditions: list[dict] = []  # a measure open to everyone
    cols = entity_columns(entity_ids=[entity.pk])
    eligible, _unmet = evaluate_matrix([conditions], cols)
    assert eligible[0].tolist() == [True]
    _judicial(court, entity, "(2024)青0102执3号", "是")
    list_services.blacklist_sync()
    cols = entity_columns(entity_ids=[entity.pk])
    assert cols.loc[entity.pk, VETO_COLUMN] == 1.0
    eligible, unmet = evaluate_matrix([conditions], cols)
    assert eligible[0].tolist() == [False] and unmet[0].tolist() == [1]
    verdict = evaluate_one(conditions, cols.loc[entity.pk].to_dict())
    assert not verdict.eligible and "一票否决" in verdict.missing[0]["text"]


def test_veto_excludes_from_risk_compensation(entity, make_user, court):
    from xinrong.riskfund.eligibility import LoanFacts, coverage
    from xinrong.riskfund.tests.factories import fund_world

    fund_world(make_user)
    today = timezone.localdate()
    facts = LoanFacts(
        division_code=entity.division_code,
        entity_type="enterprise",
        size_class="small",
        amount=Decimal("500000.00"),
        on=today,
        credit=True,
        first=True,
        entity_id=entity.pk,
    )
    before = coverage(facts)
    assert not any("一票否决" in r for r in before.reasons)
    _judicial(court, entity, "(2024)青0102执4号", "是")
    list_services.blacklist_sync()
    after = coverage(facts)
    assert not after.covered and "一票否决" in after.reasons[0]
    # a loan made before the listing is judged as it was that day (a dishonest listing later
    # does not take the compensation back; only fraud does)
    earlier = coverage(LoanFacts(**{**facts.__dict__, "on": today - dt.timedelta(days=30)}))
    assert not any("一票否决" in r for r in earlier.reasons)
