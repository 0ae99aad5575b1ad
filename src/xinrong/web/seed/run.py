"""``seed()``: load the demo world in order — organisations, registry, guarantees, facts, scores,
users, products, financing history — each step idempotent."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from django.db import transaction

from xinrong.datahub import demo as datahub_demo
from xinrong.marketplace import demo as marketplace_demo
from xinrong.web.seed.base import SCALES, SeedReport
from xinrong.web.seed.guarantees import seed_guarantees
from xinrong.web.seed.organisations import seed_organisations, seed_users
from xinrong.web.seed.products import seed_products
from xinrong.web.seed.registry import CITY_PREFECTURE, PREFECTURE_WEIGHTS, seed_registry, seed_tags
from xinrong.web.seed.scoring import retrain_on_platform_outcomes, seed_scores


def seed(
    *,
    scale: str = "demo",
    seed_value: int = 20221,
    progress: Callable[[str], None] = lambda _m: None,
) -> SeedReport:
    """Load the demo data set of ``scale``; repeated runs add nothing."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    report = SeedReport()
    rng = random.Random(seed_value)
    t0 = time.perf_counter()
    with transaction.atomic():
        orgs = seed_organisations(report)
        seed_tags()
    report.timings["organisations"] = time.perf_counter() - t0
    prefectures = {CITY_PREFECTURE: 1.0} if scale == "city" else PREFECTURE_WEIGHTS
    t1 = time.perf_counter()
    seed_registry(rng, SCALES[scale], prefectures, report, progress)
    report.timings["registry"] = time.perf_counter() - t1
    t_guarantees = time.perf_counter()
    with transaction.atomic():
        seed_guarantees(seed_value, report)
    report.timings["guarantees"] = time.perf_counter() - t_guarantees
    t_facts = time.perf_counter()
    report.facts = datahub_demo.seed_facts(orgs=orgs, seed_value=seed_value, progress=progress)
    report.timings["facts"] = time.perf_counter() - t_facts
    t_score = time.perf_counter()
    report.scored = seed_scores(seed_value, progress)
    report.timings["scoring"] = time.perf_counter() - t_score
    t2 = time.perf_counter()
    with transaction.atomic():
        seed_users(orgs, report)
    report.timings["users"] = time.perf_counter() - t2
    t_products = time.perf_counter()
    with transaction.atomic():
        report.products = seed_products(orgs, seed_value)
    report.timings["products"] = time.perf_counter() - t_products
    t_financing = time.perf_counter()
    financing = marketplace_demo.seed_financing(seed_value=seed_value, progress=progress)
    report.applications, report.loans = financing.applications, financing.loans
    report.demands = financing.demands
    report.timings["financing"] = time.perf_counter() - t_financing
    if financing.loans:
        t_retrain = time.perf_counter()
        retrain_on_platform_outcomes(seed_value, progress)
        report.timings["platform model"] = time.perf_counter() - t_retrain
    return report
