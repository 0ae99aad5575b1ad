"""Early warning after ingestion, and credit cultivation by industry authorities."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.credit.models import Alert, CreditProfile, CultivationCase, ScoreModel
from xinrong.credit.selectors import cultivation as cultivation_selectors
from xinrong.credit.selectors import early_warning as early_warning_selectors
from xinrong.credit.services import archive as archive_services
from xinrong.credit.services import cultivation as cultivation_services
from xinrong.credit.services import early_warning as early_warning_services
from xinrong.credit.tests.test_scoring import _card
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(make_user):
    dept = make_user("government", ["data_provider"])
    return source_create(
        code="dept",
        name="部门",
        organisation=dept.organisation,
        categories=["tax", "judicial", "utility", "social_security", "abnormal_operation"],
    )


def _deliver(source, category, text, capture):
    with capture(execute=True):
        return batch_ingest(
            source=source,
            category=category,
            fileobj=io.BytesIO(text.encode()),
            filename=f"{category}.csv",
            channel="cli",
        )


def _authorise(enterprise_user, institution, days=30):
    return archive_services.authorisation_grant(
        entity=enterprise_user.organisation.market_entity,
        actor=enterprise_user,
        institution=institution,
        scope="full",
        purpose="post_loan",
        expires_on=timezone.localdate() + dt.timedelta(days=days),
    )


def test_new_negative_facts_alert_only_institutions_holding_live_authorisations(
    entity, enterprise_user, bank_officer, make_user, source, django_capture_on_commit_callbacks
):
    other_bank = make_user("bank", ["loan_officer"])
    _authorise(enterprise_user, bank_officer.organisation)
    today = timezone.localdate()
    _deliver(
        source,
        "judicial",
        "统一社会信用代码,案号,诉讼地位,立案日期,标的金额（元）,失信被执行人\n"
        f"{entity.uscc},(2026)青01执9号,executed,{today},80000,是\n",
        django_capture_on_commit_callbacks,
    )
    _deliver(
        source,
        "utility",
        "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数\n"
        f"{entity.uscc},electricity,2026-10,500,4\n{entity.uscc},water,2026-10,80,1\n",
        django_capture_on_commit_callbacks,
    )
    rules = sorted(Alert.objects.values_list("rule", flat=True))
    assert rules == ["dishonest_listing", "new_enforcement", "utility_arrears"]
    assert set(Alert.objects.values_list("institution_id", flat=True)) == {
        bank_officer.organisation_id
    }
    assert not early_warning_selectors.alert_inbox(user=other_bank).exists()
    # the same event again raises nothing new
    assert early_warning_services.alerts_raise(entity_ids=[entity.pk]) == 0


def test_a_lender_with_an_outstanding_loan_is_alerted_without_a_consent(
    entity, bank_officer, make_user, source, django_capture_on_commit_callbacks
):
    """贷后预警: the lender of an outstanding loan gets the alerts; once settled it does not."""
    early_warning_services.loan_watch_start(
        entity=entity, institution=bank_officer.organisation, reference="DK-1"
    )
    head = "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数\n"
    _deliver(
        source,
        "utility",
        f"{head}{entity.uscc},electricity,2026-10,500,4\n",
        django_capture_on_commit_callbacks,
    )
    assert list(Alert.objects.values_list("institution_id", "rule")) == [
        (bank_officer.organisation_id, "utility_arrears")
    ]
    early_warning_services.loan_watch_end(institution=bank_officer.organisation, reference="DK-1")
    _deliver(  # paid up, then in arrears again: a new finding, but nobody watches any more
        source,
        "utility",
        f"{head}{entity.uscc},electricity,2026-11,500,0\n{entity.uscc},electricity,2026-12,500,3\n",
        django_capture_on_commit_callbacks,
    )
    assert Alert.objects.count() == 1
    assert early_warning_services.alerts_raise(entity_ids=[entity.pk]) == 0  # and it reaches no one


def test_state_rules_alert_when_the_entity_enters_the_state_not_every_month(
    entity, enterprise_user, bank_officer, source, django_capture_on_commit_callbacks
):
    """Tax grade D, utility arrears ≥ 3 months, social-security arrears: once per entry."""
    _authorise(enterprise_user, bank_officer.organisation)
    u = entity.uscc
    tax = "统一社会信用代码,所属期,实缴税额（元）,纳税信用等级\n"
    _deliver(
        source,
        "tax",
        f"{tax}{u},2026-07,900,B\n{u},2026-08,900,D\n{u},2026-09,900,D\n",
        django_capture_on_commit_callbacks,
    )
    _deliver(source, "tax", f"{tax}{u},2026-10,900,D\n", django_capture_on_commit_callbacks)
    assert [a.detail["period"] for a in Alert.objects.filter(rule="tax_grade_d")] == ["2026-08"]
    _deliver(
        source,
        "tax",
        f"{tax}{u},2026-11,900,B\n{u},2026-12,900,D\n",
        django_capture_on_commit_callbacks,
    )
    assert sorted(a.detail["period"] for a in Alert.objects.filter(rule="tax_grade_d")) == [
        "2026-08",
        "2026-12",  # fell to D again after recovering
    ]
    util = "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数\n"
    _deliver(
        source,
        "utility",
        f"{util}{u},electricity,2026-09,500,2\n{u},electricity,2026-10,500,3\n"
        f"{u},electricity,2026-11,500,\n{u},electricity,2026-12,500,4\n"
        f"{u},water,2026-11,80,3\n",
        django_capture_on_commit_callbacks,
    )
    found = sorted(
        (a.detail["utility"], a.detail["period"])
        for a in Alert.objects.filter(rule="utility_arrears")
    )
    assert found == [("electricity", "2026-10"), ("water", "2026-11")]  # each utility its own
    # a month with no grade between two D months neither ends nor restarts the state
    _deliver(
        source,
        "tax",
        f"{tax}{u},2027-01,900,\n{u},2027-02,900,D\n",
        django_capture_on_commit_callbacks,
    )
    assert Alert.objects.filter(rule="tax_grade_d").count() == 2
    # an old period delivered late, after later ones are known, is no news
    _deliver(
        source,
        "tax",
        f"{tax}{u},2026-05,900,A\n{u},2026-06,900,D\n",
        django_capture_on_commit_callbacks,
    )
    assert Alert.objects.filter(rule="tax_grade_d").count() == 2
    ss = "统一社会信用代码,所属期,参保人数,欠费金额（元）\n"
    _deliver(
        source,
        "social_security",
        f"{ss}{u},2026-09,12,0\n{u},2026-10,12,3000\n{u},2026-11,12,6000\n",
        django_capture_on_commit_callbacks,
    )
    assert [a.detail["period"] for a in Alert.objects.filter(rule="social_security_arrears")] == [
        "2026-10"
    ]


def test_score_drop_alerts(entity, enterprise_user, bank_officer):
    _authorise(enterprise_user, bank_officer.organisation)
    model = ScoreModel.objects.create(version=1, name="t", card=_card().to_json())
    CreditProfile.objects.create(entity=entity, model=model, score=650, grade="A", is_latest=False)
    CreditProfile.objects.create(entity=entity, model=model, score=610, grade="BBB")
    assert early_warning_services.alerts_raise(entity_ids=[entity.pk]) == 1
    alert = Alert.objects.get()
    assert alert.rule == "score_drop" and alert.detail["from"] == 650


def test_a_new_model_versions_lower_scale_is_no_score_drop(entity, enterprise_user, bank_officer):
    _authorise(enterprise_user, bank_officer.organisation)
    old = ScoreModel.objects.create(version=1, name="t", card=_card().to_json())
    new = ScoreModel.objects.create(version=2, name="t2", card=_card().to_json())
    CreditProfile.objects.create(entity=entity, model=old, score=650, grade="A", is_latest=False)
    CreditProfile.objects.create(entity=entity, model=new, score=600, grade="BBB")
    assert early_warning_services.alerts_raise(entity_ids=[entity.pk]) == 0


def test_alert_inbox_acknowledge_and_close(entity, enterprise_user, bank_officer, make_user):
    _authorise(enterprise_user, bank_officer.organisation)
    model = ScoreModel.objects.create(version=1, name="t", card=_card().to_json())
    CreditProfile.objects.create(entity=entity, model=model, score=700, grade="AA", is_latest=False)
    CreditProfile.objects.create(entity=entity, model=model, score=500, grade="B")
    early_warning_services.alerts_raise(entity_ids=[entity.pk])
    alert = early_warning_selectors.alert_inbox(user=bank_officer, status="open").get()
    stranger = make_user("bank", ["loan_officer"])
    with pytest.raises(PermissionDeniedError):
        early_warning_services.alert_acknowledge(alert=alert, actor=stranger)
    early_warning_services.alert_acknowledge(alert=alert, actor=bank_officer, note="已联系企业")
    with pytest.raises(ApplicationError) as err:
        early_warning_services.alert_close(alert=alert, actor=bank_officer, note=" ")
    assert err.value.extra == {"field": "note"}
    closed = early_warning_services.alert_close(
        alert=alert, actor=bank_officer, note="企业已还清欠费"
    )
    assert closed.status == "closed" and closed.handled_by == bank_officer
    assert early_warning_selectors.alert_open_count(user=bank_officer) == 0
    with pytest.raises(PermissionDeniedError):
        early_warning_selectors.alert_inbox(user=enterprise_user)


@pytest.fixture
def authority(make_user):
    user = make_user("government", ["policy_publisher"])
    user.organisation.industry_sections = ["F"]
    user.organisation.save()
    return user


def _history(entity, scores, grade="BB"):
    model = ScoreModel.objects.first() or ScoreModel.objects.create(
        version=1, name="t", card=_card().to_json()
    )
    now = timezone.now()
    for i, score in enumerate(scores):
        CreditProfile.objects.create(
            entity=entity,
            model=model,
            score=score,
            grade=grade,
            is_latest=i == len(scores) - 1,
            computed_at=now - dt.timedelta(days=30 * (len(scores) - 1 - i)),
        )


def test_rising_enterprises_below_bankable_grade_are_candidates(entity, authority, make_user):
    _history(entity, [540, 565, 580])
    found = cultivation_selectors.cultivation_candidates(user=authority)
    assert [(c.entity, c.score_before, c.score) for c in found] == [(entity, 540, 580)]
    other = make_user("government", ["policy_publisher"])
    other.organisation.industry_sections = ["C"]  # the entity is in F (wholesale/retail)
    other.organisation.save()
    assert cultivation_selectors.cultivation_candidates(user=other) == []
    with pytest.raises(PermissionDeniedError):
        cultivation_selectors.cultivation_candidates(user=make_user("bank", ["loan_officer"]))


def test_falling_or_bankable_enterprises_are_not_candidates(entity, authority):
    _history(entity, [600, 560])
    assert cultivation_selectors.cultivation_candidates(user=authority) == []


def test_cultivation_plan_notes_and_graduation(entity, authority):
    _history(entity, [540, 580])
    with pytest.raises(ApplicationError):
        cultivation_services.cultivation_start(entity=entity, actor=authority, plan="")
    case = cultivation_services.cultivation_start(
        entity=entity, actor=authority, plan="辅导规范纳税申报"
    )
    assert (case.score_at_start, case.grade_at_start) == (580, "BB")
    with pytest.raises(ApplicationError):
        cultivation_services.cultivation_start(entity=entity, actor=authority, plan="again")
    cultivation_services.cultivation_note_add(
        case=case, actor=authority, text="上门走访，已补缴欠税"
    )
    assert (
        cultivation_selectors.cultivation_candidates(user=authority) == []
    )  # already in cultivation
    CreditProfile.objects.filter(entity=entity).update(is_latest=False)
    _history(entity, [610], grade="BBB")
    assert cultivation_services.cultivation_graduate(entity_ids=[entity.pk]) == 1
    case.refresh_from_db()
    assert case.status == "graduated" and case.ended_at is not None


def test_only_the_entitys_industry_authority_may_start(entity, make_user):
    _history(entity, [540, 580])
    manufacturing = make_user("government", ["policy_publisher"])
    manufacturing.organisation.industry_sections = ["C"]
    manufacturing.organisation.save()
    with pytest.raises(PermissionDeniedError):
        cultivation_services.cultivation_start(entity=entity, actor=manufacturing, plan="计划")
    assert not CultivationCase.objects.exists()


def test_cultivation_pages(client, entity, authority):
    _history(entity, [540, 580])
    client.force_login(authority)
    page = client.get("/credit/cultivation/").content.decode()
    assert entity.name in page
    response = client.post("/credit/cultivation/", {"entity": entity.pk, "plan": "培植计划一"})
    case = CultivationCase.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/credit/cultivation/{case.pk}/")
    client.post(f"/credit/cultivation/{case.pk}/", {"action": "note", "text": "第一次走访"})
    detail = client.get(f"/credit/cultivation/{case.pk}/").content.decode()
    assert "第一次走访" in detail and "培植计划一" in detail


def test_default_in_a_guarantee_circle_alerts_the_other_members_institutions(
    entity, enterprise_user, bank_officer, source, django_capture_on_commit_callbacks
):
    from xinrong.enterprises import services as registry
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    b, c = MarketEntityFactory(), MarketEntityFactory()
    for guarantor, debtor in ((entity, b), (b, c), (c, entity)):
        registry.relationship_add(entity=debtor, kind="guarantor", holder_entity=guarantor)
    _authorise(enterprise_user, bank_officer.organisation)
    _deliver(
        source,
        "judicial",
        "统一社会信用代码,案号,诉讼地位,立案日期\n"
        f"{c.uscc},(2026)青01执77号,executed,{timezone.localdate()}\n",
        django_capture_on_commit_callbacks,
    )
    alert = Alert.objects.get(rule="guarantee_circle_default")
    assert (alert.entity, alert.institution_id) == (entity, bank_officer.organisation_id)
    assert alert.detail["defaulted"] == c.pk and set(alert.detail["circle"]) == {
        entity.pk,
        b.pk,
        c.pk,
    }


def test_a_platform_loan_default_in_a_guarantee_circle_alerts_the_other_members(
    entity, enterprise_user, bank_officer, django_capture_on_commit_callbacks
):
    from xinrong.datahub.services.sources import platform_loan_events_record
    from xinrong.enterprises import services as registry
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    b = MarketEntityFactory()
    registry.relationship_add(entity=b, kind="guarantor", holder_entity=entity)
    registry.relationship_add(entity=entity, kind="guarantor", holder_entity=b)
    _authorise(enterprise_user, bank_officer.organisation)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        platform_loan_events_record(
            rows=[
                {
                    "uscc": b.uscc,
                    "loan_no": "DK-CIRCLE-1",
                    "institution": "某银行",
                    "event": "defaulted",
                    "outstanding": Decimal("300000"),
                    "overdue_days": 120,
                    "occurred_on": today,
                }
            ]
        )
    alert = Alert.objects.get(rule="guarantee_circle_default")
    assert (alert.entity, alert.detail["defaulted"]) == (entity, b.pk)
