"""Scores that are honest: the missing bin, duplicated inputs, segments, distinct scores."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from io import StringIO

import numpy as np
import pandas as pd
import pytest

from xinrong.credit import scorecard, segments
from xinrong.credit.features import FEATURES, feature_matrix
from xinrong.credit.scorecard import SEGMENT_COLUMN
from xinrong.credit.segments import ENTERPRISE, INDIVIDUAL, ModelCards

TRENDS = {f.name: f.trend for f in FEATURES}


def _column(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A plausible, never missing value of a feature."""
    if name in ("dishonest", "abnormal_listed"):
        return (rng.random(n) < 0.15).astype(float)
    if name == "tax_grade":
        return rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], n, p=[0.1, 0.15, 0.25, 0.25, 0.25])
    if name == "platform_settled_share":
        return rng.random(n)
    if name.endswith("_trend"):
        return rng.normal(0.0, 0.4, n)
    if f"{name}".startswith(("penalties", "cases", "related", "loan_", "platform_loans")) or (
        "arrears" in name
    ):
        return rng.poisson(0.8, n).astype(float)
    return rng.lognormal(1.0, 1.0, n)


def _population(
    n: int, seed: int, *, missing_share: float = 0.0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Every feature of FEATURES with its own signal in the direction of its trend.

    With ``missing_share``, that share of each feature's values is missing, and missing is a
    sign of *low* risk (the data supports scoring missing well).
    """
    rng = np.random.default_rng(seed)
    cols, z = {}, np.zeros(n)
    for f in FEATURES:
        x = _column(f.name, n, rng)
        sign = 1.0 if f.trend == "ascending" else -1.0
        if f.name in ("dishonest", "abnormal_listed"):  # a flag: a strong step
            effect = sign * 1.5 * (x - 0.5)
        else:  # the same strength for every other feature, whatever its scale
            effect = sign * 0.9 * (pd.Series(x).rank(pct=True).to_numpy() - 0.5)
        if missing_share:
            gone = rng.random(n) < missing_share
            x = np.where(gone, np.nan, x)
            effect = np.where(gone, -0.8, effect)  # safer than the safest values
        z += effect
        cols[f.name] = x
    z += -2.2 - z.mean()  # about 12% bad, whatever the effects add up to
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
    return pd.DataFrame(cols), y


def _worst_value(f: scorecard.BinnedFeature) -> float:
    """A value in the regular bin with the fewest points."""
    b = int(np.argmin(f.points[:-1]))
    edges = [-math.inf, *f.splits, math.inf]
    lo, hi = edges[b], edges[b + 1]
    if lo == -math.inf:
        return hi - 1.0
    return lo


@pytest.fixture(scope="module")
def never_missing():
    X, y = _population(8000, seed=11)
    assert not X.isna().any().any()
    return scorecard.fit(X, y, trends=TRENDS), X


@pytest.mark.parametrize("name", [f.name for f in FEATURES])
def test_a_missing_value_never_scores_better_than_the_worst_value(never_missing, name):
    """Trained where the feature is never missing, the same entity scores no better without the
    value than with the feature's worst value (before, an empty missing bin was neutral)."""
    card, X = never_missing
    by_name = {f.name: f for f in card.features}
    assert name in by_name, f"{name} should carry signal in this population"
    f = by_name[name]
    assert f.counts[-1] == 0  # no missing rows in training
    entity = X.iloc[[0]].copy()
    worst, gone = entity.copy(), entity.copy()
    worst[name] = _worst_value(f)
    gone[name] = np.nan
    worst_score = card.score(worst).score[0]
    assert card.score(gone).score[0] <= worst_score + 1e-9
    assert f.points[-1] == pytest.approx(min(f.points[:-1]))  # exactly the worst, no better
    assert f.event_rates[-1] == pytest.approx(max(f.event_rates[:-1]))


@pytest.fixture(scope="module")
def often_missing():
    X, y = _population(8000, seed=12, missing_share=0.3)
    return scorecard.fit(X, y, trends=TRENDS), X, y


def test_missing_scores_well_when_many_low_risk_rows_support_it(often_missing):
    card, X, y = often_missing
    assert len(card.features) >= 20
    for f in card.features:
        observed = float(y[X[f.name].isna().to_numpy()].mean())
        assert f.counts[-1] > 2000
        # the data outweighs the prior (m = 2% of the rows = 160 against 2,400 rows)
        assert f.event_rates[-1] == pytest.approx(observed, abs=0.02)
        assert f.points[-1] > min(f.points[:-1]) + 1.0, f.name
        assert f.missing_prior_rows == pytest.approx(160.0)


def test_a_few_missing_rows_barely_move_the_missing_bin_from_the_worst():
    rates = np.array([0.04, 0.10, 0.25])
    woe = np.log((1 - rates) / rates) - math.log(0.9 / 0.1)
    rate, w = scorecard._missing_evidence(rates, woe, missing_count=5, missing_rate=0.0, m=160)
    assert rate == pytest.approx(160 * 0.25 / 165)
    assert w > woe[2] and w < woe[1]  # a little better than the worst, far from the middle
    rate, w = scorecard._missing_evidence(rates, woe, missing_count=0, missing_rate=0.0, m=160)
    assert (rate, w) == (0.25, woe[2])


def test_the_prior_weight_is_the_smallest_bin_the_binning_accepts():
    assert scorecard.missing_prior_rows(7000, 0.02) == pytest.approx(140)
    assert scorecard.missing_prior_rows(300, 0.02) == 30  # never below 30 rows


# ---------------------------------------------------------------- correlated features


def test_a_duplicated_column_is_kept_once_with_the_reason_recorded():
    X, y = _population(6000, seed=13)
    X["employees"] = X["insured_headcount"]  # the same number from two sources
    card = scorecard.fit(X, y, trends=TRENDS)
    names = [f.name for f in card.features]
    assert ("employees" in names) != ("insured_headcount" in names)
    (dropped,) = [d for d in card.dropped if "employees" in (d["feature"], d["kept"])]
    assert {dropped["feature"], dropped["kept"]} == {"employees", "insured_headcount"}
    assert dropped["rho"] == pytest.approx(1.0)
    kept = next(f for f in card.features if f.name == dropped["kept"])
    assert kept.name in names
    again = scorecard.Scorecard.from_json(card.to_json())
    assert again.dropped == card.dropped


def test_features_that_differ_are_all_kept():
    X, y = _population(6000, seed=13)
    assert scorecard.fit(X, y, trends=TRENDS).dropped == []


# ---------------------------------------------------------------- segments


def _segmented_population(n: int, seed: int, *, differ: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Two entity types; when ``differ``, a feature works the opposite way in each."""
    rng = np.random.default_rng(seed)
    kind = np.where(rng.random(n) < 0.6, INDIVIDUAL, ENTERPRISE)
    a, b = rng.normal(size=n), rng.normal(size=n)
    individual = kind == INDIVIDUAL
    z = -2.0 - 0.8 * b + np.where(individual & differ, 1.2 * a, -1.2 * a)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
    X = pd.DataFrame({"a": a, "b": b, SEGMENT_COLUMN: kind.astype(object)})
    return X, y


def test_segment_cards_are_kept_when_cross_validation_prefers_them():
    X, y = _segmented_population(6000, seed=5, differ=True)
    choice = segments.cards_train(X, y, seed=1, folds=3)
    assert choice.cards.segmented
    assert choice.cv_auc_segmented is not None
    assert choice.cv_auc_segmented > choice.cv_auc_single + 0.05
    metrics = choice.metrics()
    assert metrics["segmented"] is True and metrics["cv_folds"] == 3
    # each entity is scored by its own type's card, row for row
    cards = ModelCards.from_json(choice.cards.to_json())
    scores = cards.score(X)
    for key in (ENTERPRISE, INDIVIDUAL):
        rows = (X[SEGMENT_COLUMN] == key).to_numpy()
        assert np.allclose(scores[rows], cards.cards[key].score(X[rows]).score)


def test_one_card_with_the_entity_type_is_kept_when_segments_do_not_help():
    X, y = _segmented_population(6000, seed=6, differ=False)
    choice = segments.cards_train(X, y, seed=1, folds=3)
    assert not choice.cards.segmented
    assert choice.cv_auc_segmented is not None and choice.cv_auc_single >= choice.cv_auc_segmented


def test_a_segment_with_too_few_bads_falls_back_to_one_card():
    X, y = _segmented_population(3000, seed=7, differ=True)
    y = y.copy()
    y[(X[SEGMENT_COLUMN] == ENTERPRISE).to_numpy()] = 0
    y[np.flatnonzero((X[SEGMENT_COLUMN] == ENTERPRISE).to_numpy())[:20]] = 1
    choice = segments.cards_train(X, y, seed=1, folds=3)
    assert not choice.cards.segmented
    assert choice.cv_auc_segmented is None and choice.why_single == "too_few_bads"


def test_the_entity_type_is_never_a_feature_unless_asked():
    X, y = _segmented_population(4000, seed=8, differ=False)
    rng = np.random.default_rng(8)
    individual = (X[SEGMENT_COLUMN] == INDIVIDUAL).to_numpy()
    y = np.where(individual & (rng.random(len(y)) < 0.1), 1, y)  # individuals riskier
    card = scorecard.fit(X, y)
    assert SEGMENT_COLUMN not in [f.name for f in card.features] and card.segment is None
    with_type = scorecard.fit(X, y, segment=True)
    assert SEGMENT_COLUMN not in [f.name for f in with_type.features]
    seg = with_type.segment
    assert seg is not None and seg.categories is not None
    plain = scorecard.Scorecard(features=with_type.features, intercept=with_type.intercept)
    gap = with_type.score(X).score - plain.score(X).score
    expected = np.asarray(seg.points)[seg.bin_index(X[SEGMENT_COLUMN].to_numpy(dtype=object))]
    assert np.allclose(gap, expected)
    riskier = seg.points[seg.bin_index(np.array([INDIVIDUAL], dtype=object))[0]]
    safer = seg.points[seg.bin_index(np.array([ENTERPRISE], dtype=object))[0]]
    assert riskier < safer
    # the points still reproduce the regression's log-odds, entity type included
    assert with_type.log_odds(with_type.score(X).score).std() > 0


def test_a_single_card_stored_before_segments_still_loads_and_scores():
    from xinrong.credit.tests.test_scoring import _card

    old = _card().to_json()
    assert "segment" not in old and "segments" not in old
    cards = ModelCards.from_json(old)
    assert not cards.segmented
    frame = pd.DataFrame({"penalties_serious": [0.0, 2.0], "tax_grade": [np.nan, 5.0]})
    assert np.array_equal(cards.score(frame), _card().score(frame).score)
    assert cards.to_json() == old


# ---------------------------------------------------------------- on the database


def _segmented_model_json() -> dict:
    """Two hand-built cards: enterprises by serious penalties and tax grade, individual
    businesses by the tax grade only (a card without the compliance dimension)."""
    from xinrong.credit.tests.test_scoring import _card

    enterprise = _card()
    individual = _card()
    individual.features = [individual.features[1]]
    individual.features[0] = scorecard.BinnedFeature(
        **{**dataclasses.asdict(individual.features[0]), "points": [500.0, 540.0, 580.0, 480.0]}
    )
    return ModelCards({ENTERPRISE: enterprise, INDIVIDUAL: individual}, ENTERPRISE).to_json()


@pytest.fixture
def segmented_model(db):
    from xinrong.credit.models import ScoreModel
    from xinrong.credit.services import scoring as scoring_services

    model = ScoreModel.objects.create(
        version=1,
        name="分段评分卡",
        card=_segmented_model_json(),
        score_distribution={"edges": list(range(300, 920, 20)), "counts": [1] * 30},
        metrics={
            "outcomes": "synthetic",
            "auc_test": 0.8,
            "ks_test": 0.4,
            "segmented": True,
            "cv_folds": 5,
            "cv_auc_single": 0.781,
            "cv_auc_segmented": 0.802,
            "segment_bads": {ENTERPRISE: 120, INDIVIDUAL: 300},
            "segment_note": "",
            "distinct_scores": 266,
        },
        training={
            "data": "synthetic",
            "train_rows": 7000,
            "correlated_dropped": [
                {"feature": "employees", "kept": "insured_headcount", "rho": 0.97, "segment": ""}
            ],
        },
    )
    return scoring_services.model_activate(model=model, actor=None)


@pytest.mark.django_db
def test_a_segmented_model_scores_each_entity_with_its_own_card(segmented_model):
    from xinrong.credit.models import CreditProfile
    from xinrong.credit.services import scoring as scoring_services
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    firm = MarketEntityFactory(entity_type=ENTERPRISE)
    shop = MarketEntityFactory(entity_type=INDIVIDUAL)
    run = scoring_services.profiles_score()
    cards = ModelCards.from_json(segmented_model.card)
    X = feature_matrix(entity_ids=[firm.pk, shop.pk])
    firm_p = CreditProfile.objects.get(entity=firm, is_latest=True)
    shop_p = CreditProfile.objects.get(entity=shop, is_latest=True)
    assert firm_p.score == round(cards.cards[ENTERPRISE].score(X.loc[[firm.pk]]).score[0])
    assert shop_p.score == round(cards.cards[INDIVIDUAL].score(X.loc[[shop.pk]]).score[0])
    assert shop_p.score == 480  # no tax grade: the individual card's missing bin
    # a dimension the segment's card does not score stays empty, the others are filled
    assert shop_p.dim_compliance is None and shop_p.dim_tax is not None
    assert firm_p.dim_compliance is not None
    # PSI per segment's feature, labelled in Chinese on the page
    assert set(run.psi_features) == {
        "penalties_serious@enterprise",
        "tax_grade@enterprise",
        "tax_grade@individual_business",
    }


@pytest.mark.django_db
def test_a_segmented_model_reads_on_the_model_page_and_the_report(
    client, operator, segmented_model
):
    from xinrong.common.tests.plain_words import ALLOWED, problems, visible_text

    client.force_login(operator)
    html = client.get("/credit/models/1/").content.decode()
    text = visible_text(html)
    assert "企业评分卡" in text and "个体工商户评分卡" in text
    assert "一张评分卡（主体类型作为加减分）：5 折交叉验证 AUC 0.781" in text
    assert "企业、个体工商户各用一张评分卡：5 折交叉验证 AUC 0.802" in text
    assert "采用：企业、个体工商户分别评分" in text
    assert "从业人数与参保人数高度相关（0.97），保留参保人数" in text
    assert "训练样本 7000 个中共有 266 个不同的信用分" in text
    assert "cv_auc" not in text and "distinct_scores" not in text
    assert problems(html, allowed=ALLOWED | {"English"}) == []
    out = StringIO()
    from django.core.management import call_command

    call_command("model", "report", "--version", "1", stdout=out)
    report = out.getvalue()
    assert (
        "card of segment enterprise" in report and "card of segment individual_business" in report
    )
    assert "dropped employees" in report


@pytest.mark.django_db
def test_the_portrait_and_report_use_the_entitys_segment_card(segmented_model, enterprise_user):
    from xinrong.credit.reports.content import _score
    from xinrong.credit.selectors import scoring as scoring_selectors
    from xinrong.credit.services import scoring as scoring_services

    entity = enterprise_user.organisation.market_entity
    entity.entity_type = INDIVIDUAL
    entity.save(update_fields=["entity_type"])
    scoring_services.profiles_score(entity_ids=[entity.pk])
    portrait = scoring_selectors.portrait_read(user=enterprise_user, entity=entity, channel="web")
    assert portrait.profile is not None and portrait.profile.score == 480
    assert portrait.profile.reason_codes() == ["tax_grade"]
    assert [text for text, _advice in portrait.reasons] == ["平台尚无纳税信用等级的数据"]
    assert _score(portrait.profile).reasons == ["平台尚无纳税信用等级的数据"]


@pytest.mark.django_db
def test_ks_over_time_scores_each_loan_with_its_segment_card(segmented_model, monkeypatch):
    from xinrong.credit import outcomes
    from xinrong.credit.tests.test_loan_features import event
    from xinrong.datahub.services.sources import platform_loan_events_record
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    firm = MarketEntityFactory(entity_type=ENTERPRISE)
    shop = MarketEntityFactory(entity_type=INDIVIDUAL)
    platform_loan_events_record(
        rows=[event(e.uscc, f"L{e.pk}", "disbursed", dt.date(2023, 3, 10)) for e in (firm, shop)]
    )
    cards = ModelCards.from_json(segmented_model.card)
    seen: list[tuple[int, ...]] = []
    real = scorecard.Scorecard.score

    def spy(self, frame, **kw):
        seen.append((id(self), *sorted(frame.index)))
        return real(self, frame, **kw)

    monkeypatch.setattr(scorecard.Scorecard, "score", spy)
    result = outcomes.performance_over_time(card=cards, as_of=dt.date(2025, 6, 30))
    assert sum(p.rows for p in result.periods) == 2
    assert sorted(seen) == sorted(
        [(id(cards.cards[ENTERPRISE]), firm.pk), (id(cards.cards[INDIVIDUAL]), shop.pk)]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("min_bads", [50, 5])
def test_training_reports_cross_validation_and_distinct_scores(settings, monkeypatch, min_bads):
    from xinrong.credit.services import scoring as scoring_services
    from xinrong.credit.tests.test_platform_training import AS_OF, _loans
    from xinrong.enterprises.models import MarketEntity

    settings.XINRONG_OUTCOME_MIN_BADS = 20
    settings.XINRONG_OUTCOME_MIN_ROWS = 100
    monkeypatch.setattr(segments, "MIN_SEGMENT_BADS", min_bads)
    _loans(150, 4)
    MarketEntity.objects.filter(
        pk__in=MarketEntity.objects.order_by("pk").values("pk")[:90]
    ).update(entity_type=INDIVIDUAL)
    model = scoring_services.model_train(actor=None, as_of=AS_OF, outcomes="platform")
    m = model.metrics
    assert 0.5 < m["cv_auc_single"] <= 1 and m["cv_folds"] == 5
    if min_bads == 50:  # 38 bad loans in all: a segment cannot have 50
        assert m["segment_note"] == "too_few_bads" and m["cv_auc_segmented"] is None
        assert m["segmented"] is False
    else:
        assert m["segment_note"] == "" and 0 < m["cv_auc_segmented"] <= 1
        assert m["segmented"] == (m["cv_auc_segmented"] > m["cv_auc_single"])
    cards = ModelCards.from_json(model.card)
    assert cards.segmented == m["segmented"]
    # validated on the 70/30 split, then the stored cards refitted on every row (same design)
    assert model.training["refit"] == "all rows"
    fitted_rows = sum(sum(card.features[0].counts) for _key, card in cards.items())
    assert fitted_rows == model.training["rows"] > model.training["train_rows"]
    assert set(m["segment_bads"]) == {ENTERPRISE, INDIVIDUAL}
    # distinct scores among the training rows, as stored (whole points)
    assert 2 <= m["distinct_scores"] <= model.training["train_rows"]
    assert "correlated_dropped" in model.training
