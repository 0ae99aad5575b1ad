"""The data hub on the workflow kernel: declared tables, timelines and who is told what."""

import io

import pytest

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.datahub.choices import BatchStatus, ConflictStatus, ResolutionStatus
from xinrong.datahub.models import (
    Conflict,
    ConflictEvent,
    Fact,
    IngestBatch,
    UnresolvedRow,
    UnresolvedRowEvent,
)
from xinrong.datahub.services.conflicts import conflict_reopen, conflict_resolve
from xinrong.datahub.services.ingest import batch_fail, batch_ingest
from xinrong.datahub.services.quality import unresolved_discard, unresolved_resolve
from xinrong.datahub.tests.test_pipeline import _csv
from xinrong.datahub.workflows import CONFLICT, UNRESOLVED_ROW
from xinrong.enterprises.tests.factories import MarketEntityFactory, PersonFactory
from xinrong.notifications.models import Notification
from xinrong.workflows.kernel import WORKFLOWS
from xinrong.workflows.timeline import TimelineEvent

pytestmark = pytest.mark.django_db

TAX_HEAD = "统一社会信用代码,所属期,实缴税额（元）,法定代表人\n"


def _deliver(source, text, actor=None):
    return batch_ingest(
        source=source,
        category="tax",
        fileobj=io.BytesIO(text.encode()),
        filename="tax.csv",
        channel="upload",
        actor=actor,
    )


@pytest.fixture
def conflict(tax_source):
    entity = MarketEntityFactory(legal_representative=PersonFactory(name="马明"))
    _deliver(tax_source, f"{TAX_HEAD}{entity.uscc},2024-06,1,韩梅\n")
    return Conflict.objects.get(entity=entity)


def test_both_workflows_are_registered_with_their_event_tables():
    assert WORKFLOWS["datahub.conflict"] is CONFLICT
    assert WORKFLOWS["datahub.unresolved_row"] is UNRESOLVED_ROW
    assert issubclass(ConflictEvent, TimelineEvent) and issubclass(
        UnresolvedRowEvent, TimelineEvent
    )
    assert [a.name for a in CONFLICT.actions_from(ConflictStatus.OPEN)] == [
        "confirm_error",
        "explain",
        "dismiss",
    ]
    assert {a.name for a in CONFLICT.actions_from(ConflictStatus.CONFIRMED_ERROR)} == {
        "reopen",
        "recur",
    }


def test_buttons_follow_the_table(conflict, tax_source, operator, make_user):
    provider = tax_source.provider
    assert {a.name for a in CONFLICT.available(provider, conflict)} == {
        "confirm_error",
        "explain",
        "dismiss",
    }
    auditor = make_user("operator", ["auditor"])
    assert CONFLICT.available(auditor, conflict) == []
    conflict_resolve(conflict=conflict, actor=provider, outcome="dismissed", note="误报")
    assert CONFLICT.available(provider, conflict) == []
    assert [a.name for a in CONFLICT.available(operator, conflict)] == ["reopen"]


def test_reopening_tells_the_involved_department(
    conflict, tax_source, operator, django_capture_on_commit_callbacks
):
    conflict_resolve(conflict=conflict, actor=operator, outcome="dismissed", note="误报")
    with django_capture_on_commit_callbacks(execute=True):
        conflict_reopen(conflict=conflict, actor=operator, note="企业反映仍不一致")
    note = Notification.objects.get(recipient=tax_source.provider)
    assert note.kind == "datahub.conflict" and "重新打开" in note.title
    assert note.body == "企业反映仍不一致" and str(conflict.pk) in note.link
    assert not Notification.objects.filter(recipient=operator).exists()  # the actor


def test_reopening_an_open_conflict_says_it_is_open(conflict, operator):
    with pytest.raises(ConflictError) as exc:
        conflict_reopen(conflict=conflict, actor=operator, note="再看看")
    assert exc.value.code == "conflict_open" and exc.value.status == 409


def test_a_recurring_error_escalates_to_the_region_operator(
    conflict, tax_source, operator, make_user, django_capture_on_commit_callbacks
):
    outside = make_user("substation", ["operator_admin"], region_code="632801")
    conflict_resolve(
        conflict=conflict,
        actor=tax_source.provider,
        outcome="confirmed_error",
        note="录入有误，下月更正",
        blamed_source=tax_source,
    )
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(tax_source, f"{TAX_HEAD}{conflict.entity.uscc},2024-07,1,韩梅\n")
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.OPEN and conflict.detail["period"] == "2024-07"
    assert conflict.blamed_source == tax_source  # who has not corrected its data stays named
    event = ConflictEvent.objects.filter(conflict=conflict).order_by("-id").first()
    assert (event.kind, event.actor, event.from_status, event.to_status) == (
        "reopened",
        None,
        ConflictStatus.CONFIRMED_ERROR,
        ConflictStatus.OPEN,
    )
    assert event.data == {"detail": conflict.detail}
    escalated = Notification.objects.get(recipient=operator)
    assert "升级" in escalated.title and escalated.kind == "datahub.conflict"
    told = Notification.objects.filter(recipient=tax_source.provider, kind="datahub.conflict")
    assert told.count() == 1 and "再次报送" in told.get().title
    assert not Notification.objects.filter(recipient=outside).exists()


def test_a_person_may_not_take_the_platforms_action(conflict, tax_source, operator):
    from xinrong.workflows.kernel import transition_apply

    conflict_resolve(
        conflict=conflict,
        actor=tax_source.provider,
        outcome="confirmed_error",
        note="有误",
        blamed_source=tax_source,
    )
    with pytest.raises(PermissionDeniedError):
        transition_apply(CONFLICT, conflict, "recur", actor=operator, note="x")


# ---------------------------------------------------------------- batches


def test_the_submitter_is_told_when_a_batch_completes(
    tax_source, django_capture_on_commit_callbacks
):
    entity = MarketEntityFactory()
    provider = tax_source.provider
    with django_capture_on_commit_callbacks(execute=True):
        batch = _deliver(tax_source, f"{TAX_HEAD}{entity.uscc},2024-06,1,\n", actor=provider)
    note = Notification.objects.get(recipient=provider)
    assert note.kind == "datahub.batch" and f"#{batch.pk}" in note.title and "完成" in note.title
    assert "接收 1" in note.body and note.link.endswith(f"/batches/{batch.pk}/")


def test_the_submitter_is_told_when_a_batch_fails(tax_source, django_capture_on_commit_callbacks):
    batch = IngestBatch.objects.create(
        source=tax_source,
        category="tax",
        channel="upload",
        filename="big.csv",
        content_hash="x" * 64,
        created_by=tax_source.provider,
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch_fail(batch, "处理中断，请重新上传")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    note = Notification.objects.get(recipient=tax_source.provider)
    assert "失败" in note.title and note.body == "处理中断，请重新上传"


def test_nobody_is_told_of_a_batch_without_a_person(tax_source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(tax_source, f"{TAX_HEAD}{MarketEntityFactory().uscc},2024-06,1,\n")
    assert not Notification.objects.exists()


# ---------------------------------------------------------------- unresolved rows


@pytest.fixture
def rows(tax_source):
    content = _csv(
        [["", "简称公司", "2024-06", "100", "A", "0"], ["", "另一个未知", "2024-06", "5", "A", "0"]]
    )
    batch_ingest(
        source=tax_source, category="tax", fileobj=content, filename="q.csv", channel="upload"
    )
    return list(UnresolvedRow.objects.order_by("row_number"))


def test_rows_move_on_the_kernel_and_keep_a_timeline(rows, operator, tax_source):
    first, second = rows
    target = MarketEntityFactory()
    fact = unresolved_resolve(row=first, uscc=target.uscc, actor=operator)
    assert fact is not None and Fact.objects.filter(entity=target).count() == 1
    first.refresh_from_db()
    assert first.status == ResolutionStatus.RESOLVED and first.resolved_entity == target
    event = UnresolvedRowEvent.objects.get(row=first)
    assert (event.kind, event.actor, event.data) == ("resolved", operator, {"uscc": target.uscc})
    unresolved_discard(row=second, actor=operator)
    assert UnresolvedRowEvent.objects.get(row=second).to_status == ResolutionStatus.DISCARDED
    with pytest.raises(ConflictError) as exc:
        unresolved_discard(row=first, actor=operator)
    assert exc.value.code == "already_handled"


def test_a_row_needs_a_registered_entity_and_an_operator_admin(rows, operator, tax_source):
    first = rows[0]
    with pytest.raises(PermissionDeniedError):
        unresolved_discard(row=first, actor=tax_source.provider)
    unknown = MarketEntityFactory.build().uscc
    with pytest.raises(ApplicationError) as exc:
        unresolved_resolve(row=first, uscc=unknown, actor=operator)
    assert exc.value.code == "entity_not_found" and exc.value.extra == {"field": "uscc"}
    first.refresh_from_db()
    assert first.status == ResolutionStatus.OPEN and not UnresolvedRowEvent.objects.exists()


def test_new_conflicts_tell_the_departments_they_involve(
    tax_source, make_user, django_capture_on_commit_callbacks
):
    submitter = tax_source.provider
    colleague = make_user("government", ["data_provider"], org=submitter.organisation)
    entity = MarketEntityFactory(legal_representative=PersonFactory(name="马明"))
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(tax_source, f"{TAX_HEAD}{entity.uscc},2024-06,1,韩梅\n", actor=submitter)
    told = Notification.objects.get(recipient=colleague)
    assert told.kind == "datahub.conflict" and "1 个新的数据冲突" in told.title
    assert told.link.endswith("?source=tax")
    # the submitter's batch notice counts the conflict instead
    assert list(
        Notification.objects.filter(recipient=submitter).values_list("kind", flat=True)
    ) == ["datahub.batch"]
