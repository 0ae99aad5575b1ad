"""The legal clocks with the clock moved (time-machine), not with a date passed in.

- A dispute must be answered within 20 days (征信业管理条例 第二十五条 as DOMAIN.md reads it):
  the daily job flags it the first Beijing day after its deadline, tells the operator, and the
  overdue list shows it. Beijing's day turns at 16:00 UTC, so the moment is checked on both sides.
- Negative information leaves the score, the credit report and the archive when its five years end
  (第十六条): on its last day it is still everywhere, the day after it is nowhere.

The platform's own clock (``timezone.now()``) is moved, so every place that reads "today" is
tested, not only the functions that accept a date.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from xinrong.credit import tasks as credit_tasks
from xinrong.credit.models import CreditProfile, CreditReport, Dispute, ScoreModel
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.services import reports as reports_services
from xinrong.credit.services import scoring as scoring_services
from xinrong.credit.tests.reporting import pdf_bytes, pdf_text
from xinrong.credit.tests.test_scoring import _card
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")


def _beijing(day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=BEIJING)


def _overdue_ids(client, user) -> list[int]:
    client.force_login(user)
    page = client.get(reverse("credit:dispute_list") + "?overdue=1")
    assert page.status_code == 200
    return [d.pk for d in page.context["page"].object_list]


def test_a_dispute_is_escalated_the_first_beijing_day_after_its_20_days(
    client, enterprise_user, tax_fact, tax_clerk, operator, django_capture_on_commit_callbacks
):
    with time_machine.travel(_beijing("2026-03-02", 9), tick=False):
        dispute = disputes_services.dispute_file(
            actor=enterprise_user,
            fact=tax_fact,
            kind="correction",
            claim="实缴税额应为800元，见完税证明",
            proposed_values={"tax_paid": "800"},
        )
    assert dispute.due_on == dt.date(2026, 3, 22)  # filed 2 March + 20 days

    # the last day, late evening in Beijing (15:30 UTC): not yet overdue
    with time_machine.travel(_beijing("2026-03-22", 23, 30), tick=False):
        assert credit_tasks.disputes_escalate_overdue.call() == 0
        assert _overdue_ids(client, operator) == []

    # ten minutes past Beijing midnight — still 22 March in UTC (16:10): overdue by one day
    with time_machine.travel(_beijing("2026-03-23", 0, 10), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert credit_tasks.disputes_escalate_overdue.call() == 1
        assert _overdue_ids(client, operator) == [dispute.pk]
    dispute.refresh_from_db()
    assert dispute.escalated_at == _beijing("2026-03-23", 0, 10)
    assert dispute.status == "submitted"  # flagged, still the department's to answer
    assert "逾期 1 天" in dispute.events.get(kind="escalated").note
    assert Notification.objects.filter(recipient=operator, kind="dispute.overdue").count() == 1

    # a week later the daily job runs again: escalated once only
    with time_machine.travel(_beijing("2026-03-30", 9), tick=False):
        assert credit_tasks.disputes_escalate_overdue.call() == 0
    assert Notification.objects.filter(recipient=operator, kind="dispute.overdue").count() == 1
    assert Dispute.objects.get(pk=dispute.pk).escalated_at == _beijing("2026-03-23", 0, 10)


PENALTY_NO = "青税罚〔2021〕7号"


def _deliver_penalty(entity, source) -> None:
    """A serious penalty decided 2021-01-10 whose publicity ended 2021-06-30 (its behaviour end)."""
    text = (
        "统一社会信用代码,决定书文号,严重程度,处罚日期,公示截止日期,罚没金额（元）\n"
        f"{entity.uscc},{PENALTY_NO},serious,2021-01-10,2021-06-30,5000\n"
    )
    batch_ingest(
        source=source,
        category="penalty",
        fileobj=io.BytesIO(text.encode()),
        filename="penalty.csv",
        channel="cli",
    )


def _report_text(user, entity, tmp_path) -> str:
    report = reports_services.report_generate(user=user, entity=entity, channel="page")
    return pdf_text(pdf_bytes(report), tmp_path)


def test_negative_information_leaves_score_report_and_archive_after_five_years(
    client, enterprise_user, entity, tax_clerk, tmp_path
):
    with time_machine.travel(_beijing("2021-07-05", 10), tick=False):
        _deliver_penalty(entity, tax_clerk.source)
    card = _card()
    model = ScoreModel.objects.create(version=1, name="clock", card=card.to_json())
    scoring_services.model_activate(model=model, actor=None)
    penalties, tax_grade = card.features
    with_penalty = round(penalties.points[1] + tax_grade.points[3])
    without = round(penalties.points[0] + tax_grade.points[3])
    assert with_penalty != without  # the card makes the penalty matter
    client.force_login(enterprise_user)
    archive_url = reverse("credit:archive", args=[entity.uscc])

    # 2026-06-30 is the last day of the five years: the penalty still counts everywhere
    with time_machine.travel(_beijing("2026-06-30", 23, 50), tick=False):
        assert credit_tasks.rescore_all.call() == 1
        assert CreditProfile.objects.get(entity=entity, is_latest=True).score == with_penalty
        assert PENALTY_NO in client.get(archive_url).content.decode()
        assert PENALTY_NO in _report_text(enterprise_user, entity, tmp_path)

    # the next Beijing day (still 30 June in UTC): out of the score, the report and the archive
    with time_machine.travel(_beijing("2026-07-01", 0, 10), tick=False):
        assert credit_tasks.rescore_all.call() == 1
        assert CreditProfile.objects.get(entity=entity, is_latest=True).score == without
        assert PENALTY_NO not in client.get(archive_url).content.decode()
        assert PENALTY_NO not in _report_text(enterprise_user, entity, tmp_path)
    assert CreditReport.objects.filter(entity=entity).count() == 2
    assert CreditProfile.objects.filter(entity=entity).count() == 2  # history kept
