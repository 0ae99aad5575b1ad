"""Credit on the workflow kernel: declared moves, timelines, and the notices people wait for."""

import datetime as dt

import pytest
from django.utils import timezone

from xinrong.common.errors import PermissionDeniedError
from xinrong.credit.models import CreditProfile, CultivationEvent, ModelEvent, QueryLog, ScoreModel
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.services import archive as archive_services
from xinrong.credit.services import cultivation as cultivation_services
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.services import early_warning as early_warning_services
from xinrong.credit.services import scoring as scoring_services
from xinrong.credit.tests.test_scoring import _card
from xinrong.credit.workflows import CULTIVATION, DISPUTE
from xinrong.notifications.models import Notification
from xinrong.workflows.kernel import TransitionRefused, deadlines_remind

pytestmark = pytest.mark.django_db


def _grant(enterprise_user, institution):
    return archive_services.authorisation_grant(
        entity=enterprise_user.organisation.market_entity,
        actor=enterprise_user,
        institution=institution,
        scope="full",
        purpose="loan_application",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )


def test_the_enterprise_is_told_when_an_institution_reads_or_exports_its_data(
    facts, entity, enterprise_user, bank_officer, django_capture_on_commit_callbacks
):
    _grant(enterprise_user, bank_officer.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        archive_selectors.archive_read(user=bank_officer, entity=entity, channel="page")
        # the officer reads again while handling the case: one notice a day, the log has all
        archive_selectors.archive_read(user=bank_officer, entity=entity, channel="page")
        archive_selectors.archive_read(user=bank_officer, entity=entity, channel="export")
    assert (
        QueryLog.objects.filter(entity=entity, organisation=bank_officer.organisation).count() == 3
    )
    notes = list(Notification.objects.filter(recipient=enterprise_user).order_by("id"))
    assert [n.kind for n in notes] == ["credit.queried", "credit.queried"]
    org = bank_officer.organisation.name
    assert notes[0].title == f"{org} 查询了本企业的信用信息"
    assert notes[1].title == f"{org} 导出了本企业的信用信息"
    assert "贷款审批" in notes[0].body and "网页" in notes[0].body
    assert notes[0].link == "/credit/query-log/"
    assert not Notification.objects.filter(recipient=bank_officer).exists()


def test_the_enterprises_own_reads_and_public_reads_tell_no_one(
    facts, entity, enterprise_user, bank_officer
):
    archive_selectors.archive_read(user=enterprise_user, entity=entity, channel="page")
    archive_selectors.archive_read(user=bank_officer, entity=entity, channel="page")  # public
    assert not Notification.objects.exists()


def test_an_institution_is_told_once_per_run_of_the_alerts_it_received(
    entity, enterprise_user, bank_officer, make_user, django_capture_on_commit_callbacks
):
    _grant(enterprise_user, bank_officer.organisation)
    colleague = make_user("bank", ["institution_admin"], org=bank_officer.organisation)
    stranger = make_user("bank", ["loan_officer"])
    model = ScoreModel.objects.create(version=1, name="t", card=_card().to_json())
    CreditProfile.objects.create(entity=entity, model=model, score=650, grade="A", is_latest=False)
    CreditProfile.objects.create(entity=entity, model=model, score=600, grade="BBB")
    with django_capture_on_commit_callbacks(execute=True):
        assert early_warning_services.alerts_raise(entity_ids=[entity.pk]) == 1
    for user in (bank_officer, colleague):
        (note,) = Notification.objects.filter(recipient=user)
        assert note.kind == "credit.alert" and note.link == "/credit/alerts/"
        assert entity.name in note.body
    assert not Notification.objects.filter(recipient=stranger).exists()
    assert not Notification.objects.filter(recipient=enterprise_user).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert early_warning_services.alerts_raise(entity_ids=[entity.pk]) == 0  # no news
    assert Notification.objects.filter(recipient=bank_officer).count() == 1


def test_a_dispute_moves_only_as_declared_and_its_timeline_is_the_event_table(
    enterprise_user, tax_fact, tax_clerk
):
    dispute = disputes_services.dispute_file(
        actor=enterprise_user, fact=tax_fact, kind="objection", claim="金额有误"
    )
    assert [a.name for a in DISPUTE.available(enterprise_user, dispute)] == [
        "evidence_add",
        "withdraw",
    ]
    assert [a.name for a in DISPUTE.available(tax_clerk, dispute)] == [
        "review_start",
        "correct",
        "uphold",
    ]
    disputes_services.dispute_resolve_uphold(dispute=dispute, actor=tax_clerk, reason="核实无误")
    with pytest.raises(TransitionRefused) as refused:
        disputes_services.dispute_withdraw(dispute=dispute, actor=enterprise_user)
    assert refused.value.status == 409 and "维持原记录" in refused.value.message
    timeline = [(e.kind, e.from_status, e.to_status) for e in dispute.events.order_by("id")]
    assert timeline == [("filed", "", "submitted"), ("upheld", "submitted", "upheld")]


def test_the_department_is_reminded_once_before_the_answer_deadline(
    enterprise_user, tax_fact, tax_clerk, django_capture_on_commit_callbacks
):
    dispute = disputes_services.dispute_file(
        actor=enterprise_user, fact=tax_fact, kind="objection", claim="金额有误"
    )
    Notification.objects.all().delete()
    too_early = dispute.due_on - dt.timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_remind(today=too_early)["credit.dispute.answer"] == 0
        day = dispute.due_on - dt.timedelta(days=2)
        assert deadlines_remind(today=day)["credit.dispute.answer"] == 1
        assert deadlines_remind(today=day)["credit.dispute.answer"] == 0
    (note,) = Notification.objects.filter(recipient=tax_clerk)
    assert note.kind == "dispute.due_soon" and dispute.due_on.isoformat() in note.title
    assert dispute.events.filter(kind="remind.answer").count() == 1
    assert not Notification.objects.filter(recipient=enterprise_user).exists()


@pytest.fixture
def authority(make_user):
    user = make_user("government", ["policy_publisher"])
    user.organisation.industry_sections = ["F"]
    user.organisation.save()
    return user


def _profile(entity, score, grade):
    model = ScoreModel.objects.first() or ScoreModel.objects.create(
        version=1, name="t", card=_card().to_json()
    )
    CreditProfile.objects.filter(entity=entity).update(is_latest=False)
    CreditProfile.objects.create(entity=entity, model=model, score=score, grade=grade)


def test_a_cultivation_case_timeline_records_start_follow_ups_and_graduation(
    entity, authority, make_user
):
    _profile(entity, 580, "BB")
    case = cultivation_services.cultivation_start(entity=entity, actor=authority, plan="辅导纳税")
    cultivation_services.cultivation_note_add(case=case, actor=authority, text="上门走访")
    other = make_user("government", ["policy_publisher"])
    with pytest.raises(PermissionDeniedError):
        cultivation_services.cultivation_note_add(case=case, actor=other, text="不是本部门")
    _profile(entity, 620, "BBB")
    assert cultivation_services.cultivation_graduate(entity_ids=[entity.pk]) == 1
    with pytest.raises(TransitionRefused):
        cultivation_services.cultivation_end(case=case, actor=authority, reason="已结束")
    timeline = [
        (e.kind, e.from_status, e.to_status, e.actor, e.note)
        for e in CultivationEvent.objects.filter(case=case).order_by("id")
    ]
    assert timeline == [
        ("started", "", "active", authority, "辅导纳税"),
        ("note", "active", "active", authority, "上门走访"),
        ("graduated", "active", "graduated", None, ""),
    ]
    case.refresh_from_db()
    assert case.status == "graduated" and case.ended_at is not None
    assert [a.name for a in CULTIVATION.available(authority, case)] == []


def test_dropping_a_case_needs_a_reason_and_ends_it(entity, authority):
    _profile(entity, 580, "BB")
    case = cultivation_services.cultivation_start(entity=entity, actor=authority, plan="计划")
    case = cultivation_services.cultivation_end(case=case, actor=authority, reason="企业已注销")
    assert case.status == "dropped" and case.ended_at is not None
    last = case.events.order_by("id").last()
    assert (last.kind, last.note, last.to_status) == ("dropped", "企业已注销", "dropped")


def test_model_activation_moves_are_timeline_events(operator):
    card = _card().to_json()
    v1 = ScoreModel.objects.create(version=1, name="a", card=card)
    v2 = ScoreModel.objects.create(version=2, name="b", card=card)
    scoring_services.model_activate(model=v1, actor=operator)
    scoring_services.model_activate(model=v2, actor=None, note="命令行")
    moves = list(
        ModelEvent.objects.order_by("id").values_list(
            "model__version", "kind", "from_status", "to_status", "actor"
        )
    )
    assert moves == [
        (1, "activated", "draft", "active", operator.pk),
        (1, "retired", "active", "retired", None),
        (2, "activated", "draft", "active", None),
    ]
