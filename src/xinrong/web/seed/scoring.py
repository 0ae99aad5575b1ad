"""The first scorecards: trained on the demo facts, then again on the seeded loans' outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from xinrong.credit.models import ScoreModel
from xinrong.credit.services import scoring as scoring_services


def seed_scores(seed_value: int, progress: Callable[[str], None]) -> int:
    """Train, activate and run the first scorecard on the demo facts (once)."""
    if ScoreModel.objects.exists():
        return 0
    model = scoring_services.model_train(actor=None, seed=seed_value)
    scoring_services.model_activate(model=model, actor=None, note="演示数据初始化")
    progress(f"scorecard v{model.version}: test AUC {model.metrics['auc_test']:.3f}")
    # the score as the facts stood half a year ago, then today: a real history (trend charts,
    # cultivation candidates) computed from the demo facts, not invented
    half_year_ago = timezone.localdate() - dt.timedelta(days=182)
    scoring_services.profiles_score(as_of=half_year_ago)
    return scoring_services.profiles_score().entities


def retrain_on_platform_outcomes(seed_value: int, progress: Callable[[str], None]) -> None:
    """Close the loop: train on the seeded loans' outcomes and, if there are enough, activate."""
    model = scoring_services.model_train(actor=None, seed=seed_value, outcomes="auto")
    if model.metrics.get("outcomes") != "platform":
        progress(f"platform outcomes too few, model v{model.version} kept as a draft")
        return
    scoring_services.model_activate(
        model=model, actor=None, note="演示数据初始化：按平台贷款结果训练"
    )
    progress(
        f"scorecard v{model.version} on platform loan outcomes: "
        f"test AUC {model.metrics['auc_test']:.3f}"
    )
    scoring_services.profiles_score()
