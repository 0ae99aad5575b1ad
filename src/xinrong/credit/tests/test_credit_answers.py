"""Issue 12, the wrong answers on the credit side: one computation behind every figure.

- a repayment made 7 days late is 7 days overdue on the portrait, the archive and the PDF
  report, and the report does not call it 正常还款;
- the score trend has one point per Beijing day, and a one-entity rescoring gives the score the
  full run gives (no zig-zag between the two);
- the dispute banner says 异议处理中 once;
- a penalty's 公示截止日期 is the same on the archive and the repair form;
- a correction to a future period, and a penalty decided in the future or published past its
  maximum period, are refused naming the field and the rule, all at once, nothing written.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from xinrong.credit.features import feature_matrix
from xinrong.credit.models import CreditProfile, Dispute
from xinrong.credit.selectors.scoring import score_history
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.services import reports as reports_services
from xinrong.credit.tests.conftest import deliver
from xinrong.credit.tests.reporting import give_score, pdf_bytes, pdf_text
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.models import Relationship
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.XINRONG_PUBLIC_URL = "https://xinrong.example.gov.cn"


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


def _loan(entity, *, late: int) -> None:
    """A platform loan disbursed 4 months ago; the second instalment paid ``late`` days late."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=120)

    def row(event, on, **more):
        return {
            "uscc": entity.uscc,
            "loan_no": "DK-LATE-1",
            "institution": "青海银行西宁分行",
            "event": event,
            "occurred_on": on,
            "amount": Decimal("2282.69"),
            "outstanding": Decimal("90000"),
            **more,
        }

    platform_loan_events_record(
        rows=[
            row("disbursed", start, amount=Decimal("100000"), overdue_days=0),
            row("repaid", start + dt.timedelta(days=30), overdue_days=0),
            row("repaid", start + dt.timedelta(days=60 + late), overdue_days=late),
        ]
    )


def _flat(text: str) -> str:
    return "".join(text.split())


def test_a_repayment_7_days_late_is_7_days_overdue_on_portrait_archive_and_report(
    client, entity, enterprise_user, tmp_path
):
    _loan(entity, late=7)
    give_score(entity)
    client.force_login(enterprise_user)

    portrait = client.get(f"/credit/portrait/{entity.uscc}/").content.decode()
    figure = re.search(r"近24个月平台贷款最长逾期天数</span><span>([^<]*)</span>", portrait)
    assert figure is not None and figure.group(1) == "7天", figure

    archive = client.get(f"/credit/archive/{entity.uscc}/").content.decode()
    loans = archive[archive.index('data-category="loan"') :]
    loans = loans[: loans.index("</table>")]
    rows = re.findall(r"<tr data-fact=.*?</tr>", loans, re.S)
    late = [r for r in rows if "逾期还款" in r]
    assert len(late) == 1 and re.search(r"<td>7</td>", late[0]), rows
    assert sum("正常还款" in r for r in rows) == 1  # the one paid on time

    report = reports_services.report_generate(user=enterprise_user, entity=entity, channel="page")
    text = _flat(pdf_text(pdf_bytes(report), tmp_path))
    # each repayment row: its wording (the narrow cell wraps after three characters) and days
    rows = re.findall(
        r"DK-LATE-1青海银行西宁(逾期还|正常还)¥2,282\.69¥90,000\.00(\d+?)\d{4}-\d\d-\d\d", text
    )
    assert rows == [("逾期还", "7"), ("正常还", "0")], text


def test_related_negative_is_the_same_scored_alone_or_with_everyone(entity):
    holder = MarketEntityFactory()
    Relationship.objects.create(entity=entity, holder_entity=holder, kind="shareholder")
    platform_loan_events_record(
        rows=[
            {
                "uscc": holder.uscc,
                "loan_no": "DK-H-1",
                "institution": "青海银行",
                "event": "defaulted",
                "occurred_on": timezone.localdate() - dt.timedelta(days=10),
                "overdue_days": 90,
            }
        ]
    )
    alone = feature_matrix(entity_ids=[entity.pk])
    everyone = feature_matrix()
    assert alone.loc[entity.pk, "related_negative"] == 1
    assert everyone.loc[entity.pk, "related_negative"] == 1


def test_score_trend_has_one_point_per_beijing_day_the_days_last_score(entity):
    give_score(entity)
    CreditProfile.objects.filter(entity=entity).delete()
    model = give_score(entity).model
    CreditProfile.objects.filter(entity=entity).delete()
    # 2026-03-01 17:00–18:30 UTC is 2026-03-02 01:00–02:30 in Beijing: one day, four scores
    base = dt.datetime(2026, 3, 1, 17, 0, tzinfo=dt.UTC)
    for i, score in enumerate([626, 569, 626, 599]):
        CreditProfile.objects.create(
            entity=entity,
            model=model,
            score=score,
            grade="BBB",
            computed_at=base + dt.timedelta(minutes=30 * i),
            is_latest=(i == 3),
        )
    assert score_history(entity=entity) == [("2026-03-02", 599)]


def test_the_dispute_banner_says_in_dispute_once(client, entity, enterprise_user, tax_fact):
    give_score(entity)
    disputes_services.dispute_file(
        actor=enterprise_user, fact=tax_fact, kind="objection", claim="纳税额有误"
    )
    client.force_login(enterprise_user)
    page = client.get(f"/credit/portrait/{entity.uscc}/").content.decode()
    banner = re.search(r'id="disputed-banner">([^<]*)<', page)
    assert banner is not None
    assert banner.group(1).count("异议处理中") == 1, banner.group(1)


def test_publication_end_is_one_date_on_archive_and_repair_form(
    client, entity, enterprise_user, tax_clerk
):
    (delivered,) = deliver(
        tax_clerk.source,
        "penalty",
        "统一社会信用代码,决定书文号,严重程度,处罚日期,公示截止日期",
        [f"{entity.uscc},青税罚〔2024〕8号,general,2024-02-10,2024-12-31"],
    )
    (computed,) = deliver(
        tax_clerk.source,
        "penalty",
        "统一社会信用代码,决定书文号,严重程度,处罚日期",
        [f"{entity.uscc},青税罚〔2024〕9号,general,2024-01-31"],
    )
    client.force_login(enterprise_user)
    archive = client.get(f"/credit/archive/{entity.uscc}/").content.decode()
    for fact, end in ((delivered, "2024-12-31"), (computed, "2025-01-31")):
        row = re.search(rf'<tr data-fact="{fact.pk}".*?</tr>', archive, re.S)
        assert row is not None and f"<td>{end}</td>" in row.group(0), (end, row)
        form = client.get(f"/credit/repairs/new/{fact.pk}/").content.decode()
        shown = re.search(r'id="publication-end">([^<]*)<', form)
        assert shown is not None and shown.group(1) == end


def test_a_correction_to_a_future_period_is_refused_in_the_api(client, enterprise_user, tax_fact):
    client.force_login(enterprise_user)
    response = client.post(
        "/api/v1/credit/disputes",
        {
            "fact_id": tax_fact.pk,
            "kind": "correction",
            "claim": "所属期有误",
            "proposed_values": {"period": "2099-01", "tax_paid": "八百"},
        },
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    body = response.json()
    fields = {e["field"]: e["message"] for e in body["extra"]["errors"]}
    assert "所属期" in fields["proposed_values.period"]
    assert "不能晚于本月" in fields["proposed_values.period"]
    assert "应为数字" in fields["proposed_values.tax_paid"]
    assert not Dispute.objects.exists()


def test_a_correction_to_a_future_period_is_refused_in_the_form_with_every_error(
    client, enterprise_user, tax_fact
):
    client.force_login(enterprise_user)
    page = client.post(
        f"/credit/disputes/new/{tax_fact.pk}/",
        {
            "kind": "correction",
            "claim": "所属期有误",
            "value_period": "2099-01",
            "value_tax_paid": "八百",
        },
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "不能晚于本月" in text and "应为数字" in text
    assert not Dispute.objects.exists()


def test_a_penalty_correction_past_its_maximum_period_is_refused(
    client, entity, enterprise_user, make_penalty
):
    fact = make_penalty("general", "2024-02-10")
    with pytest.raises(Exception) as caught:
        disputes_services.dispute_file(
            actor=enterprise_user,
            fact=fact,
            kind="addition",
            claim="补充公示截止日期",
            proposed_values={"publication_end": "2026-02-10"},
        )
    assert "公示截止日期" in str(caught.value) and "2025-02-10" in str(caught.value)
    assert not Dispute.objects.exists()


def test_model_chart_times_are_beijing_time(entity, operator):
    from xinrong.credit.models import ScoringRun
    from xinrong.credit.selectors.scoring import model_detail

    model = give_score(entity).model
    run = ScoringRun.objects.create(model=model, full=True, psi_score=0.1)
    ScoringRun.objects.filter(pk=run.pk).update(
        started_at=dt.datetime(2026, 3, 1, 17, 5, tzinfo=dt.UTC)
    )
    detail = model_detail(user=operator, version=model.version)
    assert detail.chart["psi"] == [{"at": "2026-03-02 01:05", "psi": 0.1}]
