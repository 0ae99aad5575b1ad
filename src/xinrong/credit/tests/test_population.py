"""A generated population through the platform's real doors and the model (issue 13).

Firms the platform has never seen: the registry delivery creates them, each department's CSV
goes through ``batch_ingest``, the training borrowers' loans through the signed loan-history
API; the scorecard is trained on the platform's own outcomes, then the held-out borrowers' loans
are pushed the same way and their outcomes are predicted by the platform's score, a plain
logistic regression on the same columns and the generating process's true probabilities.

The population is pushed once per module (it is the slow part) and each test reads it.
The AUC bounds are set from measurements over seeds (docs/credit-scoring.md, "Measured on a
generated population"); 20,000 firms are measured by ``benchmarks/population_bench.py``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
from django.test import override_settings
from django.utils import timezone

from xinrong.credit.choices import TrainingData
from xinrong.credit.tests import population
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.services import entity_type_from_uscc
from xinrong.reference import idcard, uscc

pytestmark = pytest.mark.django_db

N = 2_400
# another seed for measuring the bounds: XINRONG_POPULATION_SEED=7 pytest …
SEED = int(os.environ.get("XINRONG_POPULATION_SEED", "20261"))
# A fixed date keeps the population (and so the AUCs) the same every day; a clock before it
# falls back to today (the loan-history door refuses dates in the future).
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def pushed(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    from django.core.management import call_command

    from xinrong.credit.services import scoring as scoring_services

    as_of = min(AS_OF, timezone.localdate())
    with (
        django_db_blocker.unblock(),
        override_settings(XINRONG_OUTCOME_MIN_BADS=30, XINRONG_OUTCOME_MIN_ROWS=300),
    ):
        try:
            pop = population.generate(N, seed=SEED, as_of=as_of, borrower_share=0.6, loan_months=3)
            report = population.push_population(pop)
            problems = population.check_all_accepted(report, ["registry", *pop.deliveries])
            trained_labels = _labels(as_of)
            model = scoring_services.model_train(actor=None, outcomes="platform", as_of=as_of)
            population.push_holdout_loans(pop, report)
            result = population.evaluate(pop, model)
            print("\n" + "\n".join(result.lines()))
            yield SimpleNamespace(
                pop=pop,
                report=report,
                problems=problems,
                model=model,
                trained_labels=trained_labels,
                labels=_labels(as_of),
                result=result,
                statuses=_statuses(),
            )
        finally:
            call_command("flush", "--noinput")  # leave the database clean for other modules


def _labels(as_of: dt.date) -> dict[str, int]:
    from xinrong.credit.outcomes import loan_labels

    labels = loan_labels(as_of=as_of)
    codes = dict(MarketEntity.objects.values_list("pk", "uscc"))
    return {codes[e]: int(b) for e, b in zip(labels["entity_id"], labels["bad"], strict=True)}


def _statuses() -> dict[str, str]:
    from xinrong.marketplace.models import Loan

    return dict(Loan.objects.values_list("entity__uscc", "status"))


def test_the_generated_population_is_valid_and_realistic() -> None:
    pop = population.generate(2_000, seed=SEED, as_of=AS_OF)
    codes = [r["uscc"] for r in pop.registry]
    assert len(set(codes)) == len(codes) and all(uscc.is_valid(c) for c in codes)
    ids = [r["legal_rep_id_number"] for r in pop.registry]
    assert len(set(ids)) == len(ids)
    assert all(idcard.validate(number) == number for number in ids)
    individual = np.mean([entity_type_from_uscc(c) == "individual_business" for c in codes])
    assert 0.70 <= individual <= 0.78
    assert (pop.firms["segment"] == "individual").mean() == pytest.approx(individual)
    borrowers = pop.firms[pop.firms["borrower"]]
    assert 0.06 <= borrowers["bad"].mean() <= 0.13
    # annual tax rows, missing grades and missing bill amounts are part of the population
    periods = {r["period"] for r in pop.deliveries["tax"]}
    assert any(len(p) == 4 for p in periods) and any(len(p) == 7 for p in periods)
    assert any(r["billed"] == "" for r in pop.deliveries["utility"])
    assert pop.truth["tax_grade"].isna().mean() > 0.3
    penalised = pop.truth[["penalties_general", "penalties_serious"]].sum(axis=1) > 0
    assert 0.10 <= penalised.mean() <= 0.30
    # a good loan repays the platform's schedule and is settled; a bad one is 90+ days overdue
    for loan in pop.loans[:300]:
        assert loan["applied_on"] <= loan["contract_signed_on"] <= loan["disbursed_on"]
        assert all(r["paid_on"] <= AS_OF.isoformat() for r in loan["repayments"])
        if loan["settled_on"]:
            repaid = sum(float(r["principal"]) for r in loan["repayments"])
            assert repaid == pytest.approx(float(loan["principal"]), abs=0.005)
        else:
            assert max(o["days"] for o in loan["overdue"]) >= 90


def test_every_row_and_loan_goes_through_the_doors(pushed) -> None:
    pop, report = pushed.pop, pushed.report
    assert pushed.problems == []
    assert report.api_errors == []
    assert MarketEntity.objects.filter(uscc__in=pop.firms["uscc"].tolist()).count() == N
    accepted = {b["category"]: b["accepted"] for b in report.batches}
    assert accepted["registry"] == N
    assert accepted["tax"] == len(pop.deliveries["tax"])
    # every good loan repaid on the platform's schedule is settled, none left overdue
    borrowers = pop.firms[pop.firms["borrower"]].set_index("uscc")
    statuses = pushed.statuses
    assert len(statuses) == len(borrowers)
    good = [u for u in borrowers.index if not borrowers.at[u, "bad"]]
    bad = [u for u in borrowers.index if borrowers.at[u, "bad"]]
    assert {statuses[u] for u in good} == {"settled"}
    assert {statuses[u] for u in bad} <= {"overdue", "defaulted"}


def test_the_platform_labels_every_loan_as_it_went(pushed) -> None:
    """The outcomes the model learns from are the loans' own: bad exactly when it went bad."""
    firms = pushed.pop.firms.set_index("uscc")
    training = firms[firms["borrower"] & ~firms["holdout"]]
    assert pushed.trained_labels == {u: int(b) for u, b in training["bad"].items()}
    everyone = firms[firms["borrower"]]
    assert pushed.labels == {u: int(b) for u, b in everyone["bad"].items()}
    assert pushed.model.metrics["outcomes"] == TrainingData.PLATFORM
    assert pushed.model.training["entities"] == len(training)


def test_held_out_auc_beside_a_plain_regression_and_the_truth(pushed) -> None:
    result = pushed.result
    assert result.holdout_rows == int(pushed.pop.firms["holdout"].sum())
    assert result.train_rows == pushed.model.training["rows"]
    # bounds measured over seeds, with margin (docs/credit-scoring.md)
    assert result.auc_truth >= BOUNDS["truth"]
    assert result.auc_model >= BOUNDS["model"]
    assert result.auc_model >= result.auc_truth - BOUNDS["below_truth"]
    assert result.auc_model >= result.auc_logistic - BOUNDS["below_regression"]
    assert result.distinct_scores >= BOUNDS["distinct"]


# Measured 2026-12-07 with fit's cards (N=2,400, 3 disbursement months, ~720 held out, ~65 bad):
#   seed 20261: cards 0.791, regression 0.881, truth 0.900
#   seed     7: cards 0.837, regression 0.854, truth 0.915
#   seed    11: cards 0.766, regression 0.808, truth 0.886
# The bounds catch a broken pipeline (labels, features, doors), not the goal of issue 13
# (within 0.01 of the truth), which this size cannot measure: see the benchmark at 20,000.
BOUNDS = {
    "truth": 0.85,
    "model": 0.70,
    "below_truth": 0.18,
    "below_regression": 0.15,
    "distinct": 50,
}
