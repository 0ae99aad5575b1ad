"""KS over time: a model's point-in-time score against platform loan outcomes, per period."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from xinrong.accounts.tests.support import browser_login
from xinrong.common.errors import ApplicationError
from xinrong.credit.features import feature_matrix
from xinrong.credit.models import ScoreModel
from xinrong.credit.outcomes import loan_labels, performance_over_time
from xinrong.credit.scorecard import Scorecard
from xinrong.credit.selectors import scoring as scoring_selectors
from xinrong.credit.services import scoring as scoring_services
from xinrong.credit.tests.test_platform_training import _loans
from xinrong.credit.tests.test_scoring import _card

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _small_thresholds(settings):
    settings.XINRONG_OUTCOME_MIN_BADS = 20
    settings.XINRONG_OUTCOME_MIN_ROWS = 100


@pytest.fixture
def model() -> ScoreModel:
    """150 entities with a 2023 loan (January to June, every 4th bad) and, for most bad ones and
    a few good ones, a 2021 loan that went 60 days overdue; a model trained on those outcomes."""
    _loans(150, 4)
    return scoring_services.model_train(actor=None, as_of=AS_OF, outcomes="platform")


def _scores_one_by_one(card: Scorecard, months: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Score each loan row on its own at its snapshot: slow, but independent of the batch."""
    labels = loan_labels(as_of=AS_OF)
    labels = labels[labels["month"].isin(months)]
    scores = [
        float(card.score(feature_matrix(entity_ids=[row.entity_id], as_of=row.snapshot)).score[0])
        for row in labels.itertuples()
    ]
    return np.array(scores), labels["bad"].to_numpy()


def test_ks_per_quarter_equals_an_independent_computation(model) -> None:
    card = Scorecard.from_json(model.card)
    result = performance_over_time(card=card, as_of=AS_OF)
    assert result.period == "quarter"  # 25 loans a month: too few for months
    by_period = {p.period: p for p in result.periods}
    for quarter, months in {
        "2023Q1": ("2023-01", "2023-02", "2023-03"),
        "2023Q2": ("2023-04", "2023-05", "2023-06"),
    }.items():
        scores, bad = _scores_one_by_one(card, months)
        p = by_period[quarter]
        assert p.enough
        assert (p.rows, p.bads) == (len(bad), int(bad.sum()))
        assert p.bad_rate == round(bad.mean(), 4)
        expected_ks = ks_2samp(scores[bad == 0], scores[bad == 1]).statistic
        assert p.ks == pytest.approx(expected_ks, abs=1e-4)
        assert p.auc == pytest.approx(roc_auc_score(bad, -scores), abs=1e-4)
        assert p.ks is not None and p.ks > 0.3


def test_periods_with_too_few_outcomes_are_flagged_and_gaps_listed(model) -> None:
    result = performance_over_time(card=Scorecard.from_json(model.card), as_of=AS_OF)
    periods = [p.period for p in result.periods]
    # the earlier loans of 2021 Q1 (all good) start the range; the quarters between are empty
    assert periods[0] == "2021Q1" and periods[-1] == "2023Q2" and len(periods) == 10
    first = result.periods[0]
    assert first.rows > 30 and first.bads == 0 and not first.enough and first.ks is None
    empty = result.periods[1]
    assert (empty.rows, empty.bad_rate, empty.ks, empty.auc) == (0, None, None, None)


def test_months_when_every_month_has_enough(model, settings) -> None:
    settings.XINRONG_KS_MIN_ROWS = 20
    card = Scorecard.from_json(model.card)
    assert performance_over_time(card=card, as_of=AS_OF).period == "quarter"  # 2021 has no bads
    months = performance_over_time(card=card, as_of=AS_OF, period="month")
    assert months.period == "month"
    may, june = months.periods[-2:]
    assert (may.period, may.rows, june.period, june.rows) == ("2023-05", 25, "2023-06", 25)
    assert may.enough and may.bads >= 5
    assert not june.enough and june.bads == 0  # every bad loan fell in January, March or May
    with pytest.raises(ApplicationError) as caught:
        performance_over_time(card=card, as_of=AS_OF, period="week")
    assert caught.value.code == "invalid_period"


def test_no_outcomes_means_no_periods() -> None:
    result = performance_over_time(card=_card(), as_of=AS_OF)
    assert result.periods == [] and result.chart()["periods"] == []


def test_the_result_is_cached_per_version_and_date(model, django_assert_max_num_queries) -> None:
    first = scoring_selectors.model_performance(model=model, as_of=AS_OF)
    with django_assert_max_num_queries(1):  # the freshness check only
        again = scoring_selectors.model_performance(model=model, as_of=AS_OF)
    assert again.chart() == first.chart()


def test_the_model_page_draws_ks_over_time_for_the_operator_only(
    client, model, operator, bank_officer
) -> None:
    client.force_login(bank_officer)
    assert client.get(f"/credit/models/{model.version}/").status_code == 403
    client.force_login(operator)
    html = client.get(f"/credit/models/{model.version}/").content.decode()
    assert 'id="chart-ks"' in html and "model_ks.js" in html
    found = re.search(r'id="data-model"[^>]*>(.*?)</script>', html, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    periods = {p["period"]: p for p in data["ks"]["periods"]}
    assert periods["2023Q2"]["ks"] > 0.3 and periods["2023Q2"]["rows"] == 75
    assert periods["2021Q1"]["ks"] is None
    assert "样本不足" in html


def test_the_model_page_without_outcomes_keeps_the_message(client, operator) -> None:
    ScoreModel.objects.create(version=1, name="测试卡", card=_card().to_json())
    client.force_login(operator)
    html = client.get("/credit/models/1/").content.decode()
    assert "KS 随时间的监控需要平台贷款结果，暂无数据。" in html and 'id="chart-ks"' not in html


def test_model_report_prints_ks_over_time(model) -> None:
    out = StringIO()
    call_command(
        "model", "report", "--version", str(model.version), "--as-of", AS_OF.isoformat(), stdout=out
    )
    text = out.getvalue()
    assert "KS over time" in text
    line = next(x for x in text.splitlines() if x.startswith("2023Q2"))
    assert " 75 " in line
    assert "too few" in next(x for x in text.splitlines() if x.startswith("2021Q1"))


def test_model_report_without_outcomes_says_so() -> None:
    ScoreModel.objects.create(version=1, name="测试卡", card=_card().to_json())
    out = StringIO()
    call_command("model", "report", "--version", "1", stdout=out)
    assert "no platform loan outcomes yet" in out.getvalue()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_ks_chart_draws_with_counts_in_its_tooltip(page, live_server, make_user) -> None:

    _loans(150, 4)
    model = scoring_services.model_train(actor=None, as_of=AS_OF, outcomes="platform")
    make_user("operator", ["operator_admin"], username="ops")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "ops")
    page.goto(f"{live_server.url}/credit/models/{model.version}/")
    chart = page.locator("#chart-ks")
    chart.locator("canvas").first.wait_for()
    box = chart.bounding_box()
    assert box is not None
    page.locator("#ks-over-time").scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] - 30, box["y"] + box["height"] / 2, steps=5)
    tooltip = page.locator("#chart-ks div", has_text="AUC 0.").last
    tooltip.wait_for()
    tip = tooltip.inner_text()
    assert "2023Q2" in tip and "KS 0." in tip and "75" in tip
    if shot := os.environ.get("XINRONG_SCREENSHOT"):
        page.wait_for_timeout(1500)  # the lines' drawing animation
        page.locator("#ks-over-time").screenshot(path=shot)
    assert "样本不足" in (page.locator("#ks-table").text_content() or "")
    assert not errors
