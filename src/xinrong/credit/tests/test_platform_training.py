"""Training the scorecard on the platform's own loan outcomes (xinrong model train --outcomes)."""

from __future__ import annotations

import datetime as dt
import random
from io import StringIO

import pytest
from django.core.management import call_command

from xinrong.common.errors import ApplicationError
from xinrong.credit.choices import TrainingData
from xinrong.credit.outcomes import loan_labels
from xinrong.credit.services import scoring as scoring_services
from xinrong.credit.tests.test_loan_features import event
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _small_thresholds(settings):
    settings.XINRONG_OUTCOME_MIN_BADS = 20
    settings.XINRONG_OUTCOME_MIN_ROWS = 100


def _loans(n: int, bad_every: int, *, seed: int = 1) -> None:
    """n entities with one loan each in 2023; every ``bad_every``-th defaults within a year.

    Most bad ones had an overdue on an earlier loan before it, so the history predicts.
    """
    rng = random.Random(seed)
    rows = []
    for i, e in enumerate(MarketEntityFactory.create_batch(n)):
        bad = i % bad_every == 0
        disbursed = dt.date(2023, 1 + i % 6, 10)
        if (bad and rng.random() < 0.9) or (not bad and rng.random() < 0.08):
            rows += [
                event(e.uscc, f"P{i}", "disbursed", dt.date(2021, 3, 1)),
                event(e.uscc, f"P{i}", "overdue", dt.date(2022, 2, 1), overdue_days=60),
                event(e.uscc, f"P{i}", "settled", dt.date(2022, 3, 1)),
            ]
        rows.append(event(e.uscc, f"L{i}", "disbursed", disbursed))
        if bad:
            rows.append(event(e.uscc, f"L{i}", "defaulted", disbursed + dt.timedelta(days=200)))
        else:
            rows.append(event(e.uscc, f"L{i}", "settled", disbursed + dt.timedelta(days=360)))
    platform_loan_events_record(rows=rows)


def test_labels_use_a_12_month_window_and_a_snapshot_before_disbursement() -> None:
    a, b, c, d = MarketEntityFactory.create_batch(4)
    platform_loan_events_record(
        rows=[
            event(a.uscc, "A", "disbursed", dt.date(2023, 3, 15)),
            event(a.uscc, "A", "overdue", dt.date(2023, 9, 1), overdue_days=95),
            event(b.uscc, "B", "disbursed", dt.date(2023, 3, 20)),
            event(b.uscc, "B", "overdue", dt.date(2023, 9, 1), overdue_days=30),
            event(c.uscc, "C", "disbursed", dt.date(2023, 4, 2)),
            event(c.uscc, "C", "defaulted", dt.date(2024, 6, 1)),  # after the window
            event(d.uscc, "D", "disbursed", dt.date(2025, 1, 5)),  # window not over yet
        ]
    )
    labels = loan_labels(as_of=AS_OF).set_index("entity_id")
    assert set(labels.index) == {a.pk, b.pk, c.pk}
    assert labels.loc[a.pk, "bad"] == 1
    assert labels.loc[b.pk, "bad"] == 0
    assert labels.loc[c.pk, "bad"] == 0
    assert labels.loc[a.pk, "snapshot"] == dt.date(2023, 2, 28)
    assert labels.loc[c.pk, "month"] == "2023-04"


def test_training_on_platform_outcomes_says_so() -> None:
    _loans(150, 4)
    model = scoring_services.model_train(actor=None, as_of=AS_OF, outcomes="platform")
    assert model.metrics["outcomes"] == "platform"
    assert model.training["data"] == TrainingData.PLATFORM
    assert model.training["rows"] > 150  # the earlier loans are outcomes too (all good)
    assert model.training["entities"] == 150
    assert model.training["bads"] == 38
    assert "oracle_auc_test" not in model.metrics
    assert model.metrics["auc_test"] > 0.7
    # features are taken before disbursement: the loan's own default is not among them
    assert "loan_defaults_5y" not in model.metrics["iv"]
    # here every earlier loan ran 60 days overdue, so the overdue days repeat the loan history
    # (same WOE column): one of the two stays, and the other's drop is recorded
    history = {"loan_overdue_days_24m", "platform_loan_months", "platform_loans"}
    assert history & set(model.metrics["iv"])
    dropped = {d["feature"]: d["kept"] for d in model.training["correlated_dropped"]}
    if "loan_overdue_days_24m" not in model.metrics["iv"]:
        assert dropped["loan_overdue_days_24m"] in model.metrics["iv"]


def test_auto_uses_platform_outcomes_when_there_are_enough() -> None:
    _loans(150, 4)
    out = StringIO()
    call_command("model", "train", "--as-of", AS_OF.isoformat(), stdout=out)
    assert "platform loan outcomes" in out.getvalue()


def test_auto_falls_back_to_synthetic_outcomes_and_says_why() -> None:
    _loans(60, 4)  # too few
    MarketEntityFactory.create_batch(160)
    out = StringIO()
    call_command("model", "train", "--outcomes", "auto", "--as-of", AS_OF.isoformat(), stdout=out)
    text = out.getvalue()
    assert "platform outcomes not used" in text
    assert "synthetic outcomes" in text
    model = scoring_services.model_train(actor=None, as_of=AS_OF)
    assert model.metrics["outcomes"] == "synthetic"
    assert "平台贷款结果不足" in model.training["fallback"]


def test_platform_outcomes_required_but_too_few_is_a_clear_error() -> None:
    _loans(60, 4)
    with pytest.raises(ApplicationError) as caught:
        scoring_services.model_train(actor=None, as_of=AS_OF, outcomes="platform")
    assert caught.value.code == "too_few_outcomes"
    assert caught.value.extra["bads"] == 15
    assert "至少需要 100 笔" in caught.value.message


def test_unknown_outcome_source_is_refused() -> None:
    with pytest.raises(ApplicationError, match="synthetic"):
        scoring_services.model_train(actor=None, outcomes="bank")
