"""``seed()``: load the demo world in order — organisations, registry, guarantees, facts, scores,
users, products, financing history — each step idempotent."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from django.db import transaction
from django.urls import reverse

from xinrong.credit.demo.lists import seed_lists
from xinrong.datahub import demo as datahub_demo
from xinrong.evaluations.demo import seed_ratings
from xinrong.insight.demo.campaigns import seed_campaigns
from xinrong.insight.demo.grid import seed_grid
from xinrong.insight.services.statistics import summary_refresh
from xinrong.marketplace import demo as marketplace_demo
from xinrong.policies.demo import seed_policies
from xinrong.riskfund.demo import seed_riskfund
from xinrong.web.seed.base import DEMO_PASSWORD, SCALES, SeedReport
from xinrong.web.seed.casework import seed_department_work
from xinrong.web.seed.guarantees import seed_guarantees
from xinrong.web.seed.institutions import seed_guarantee_requests, seed_reserve
from xinrong.web.seed.organisations import seed_organisations, seed_second_factor, seed_users
from xinrong.web.seed.products import seed_products, seed_products_in_review
from xinrong.web.seed.registry import CITY_PREFECTURE, PREFECTURE_WEIGHTS, seed_registry, seed_tags
from xinrong.web.seed.scoring import retrain_on_platform_outcomes, seed_scores


def seed(
    *,
    scale: str = "demo",
    seed_value: int = 20221,
    progress: Callable[[str], None] = lambda _m: None,
    history: bool = True,
) -> SeedReport:
    """Load the demo data set of ``scale``; repeated runs add nothing.

    ``history=False`` leaves out the generated financing history and the model retrained on it
    (two thirds of the time), for browser journeys that start from today's catalogue.
    """
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
        seed_products_in_review()
    report.timings["products"] = time.perf_counter() - t_products
    if not history:
        t_policies = time.perf_counter()
        report.policies = seed_policies(seed_value, activity=False)
        report.timings["policies"] = time.perf_counter() - t_policies
        report.riskfund = seed_riskfund(seed_value, activity=False)
        seed_second_factor()
        return report
    t_financing = time.perf_counter()
    financing = marketplace_demo.seed_financing(seed_value=seed_value, progress=progress)
    report.applications, report.loans = financing.applications, financing.loans
    report.demands = financing.demands
    report.timings["financing"] = time.perf_counter() - t_financing
    if financing.loans:
        t_retrain = time.perf_counter()
        retrain_on_platform_outcomes(seed_value, progress)
        report.timings["platform model"] = time.perf_counter() - t_retrain
    t_guarantee_requests = time.perf_counter()
    report.guarantee_requests = seed_guarantee_requests(seed_value)
    report.reserve_entries = seed_reserve()
    report.timings["guarantee requests"] = time.perf_counter() - t_guarantee_requests
    t_casework = time.perf_counter()
    report.department_disputes = seed_department_work()
    report.timings["department work"] = time.perf_counter() - t_casework
    t_policies = time.perf_counter()
    report.policies = seed_policies(seed_value)
    report.timings["policies"] = time.perf_counter() - t_policies
    t_riskfund = time.perf_counter()
    report.riskfund = seed_riskfund(seed_value)
    # the fund's demo writes a few loans of its own (the demo bank's bad loans to small firms)
    report.applications += report.riskfund.get("bad_loans", 0)
    report.loans += report.riskfund.get("bad_loans", 0)
    report.timings["risk fund"] = time.perf_counter() - t_riskfund
    # issue 16, in order: lists, ratings, heatmap, grid
    t_lists = time.perf_counter()
    seed_lists(seed_value)
    report.timings["lists"] = time.perf_counter() - t_lists
    t_campaigns = time.perf_counter()  # 信用创评 records across Qinghai (heat maps)
    seed_campaigns(seed_value)
    report.timings["campaigns"] = time.perf_counter() - t_campaigns
    t_ratings = time.perf_counter()  # 融资评价 (issue 16, part A)
    rated = seed_ratings(seed_value)
    # the ratings' demo gives the demo enterprise two loans of the demo bank to rate
    report.applications += rated["loans"]
    report.loans += rated["loans"]
    report.timings["ratings"] = time.perf_counter() - t_ratings
    # 甘霖工程 (issue 16, grid): field officers grid_bank and grid_community, visits, files
    t_grid = time.perf_counter()
    seed_grid(seed_value, password=DEMO_PASSWORD)
    report.timings["grid"] = time.perf_counter() - t_grid
    t_stats = time.perf_counter()  # the statistics' summary of finished months
    summary_refresh()
    report.timings["statistics summary"] = time.perf_counter() - t_stats
    t_inbox = time.perf_counter()
    seed_inbox()
    report.timings["inbox"] = time.perf_counter() - t_inbox
    seed_second_factor()
    return report


def seed_inbox() -> None:
    """Give every role its waiting work in the inbox on first login, as the live platform would.

    The demo history is written in bulk, without the notices a live platform sends: each
    application still waiting at its institution is announced to the institution's staff (once:
    a second run finds the notice), and the deadline sweep reminds what falls due in the next
    days. Both use the platform's own notice paths.
    """
    from xinrong.marketplace.choices import ApplicationStatus
    from xinrong.marketplace.models import LoanApplication
    from xinrong.marketplace.services.applications import application_arrival_notify
    from xinrong.notifications.models import Notification
    from xinrong.workflows.kernel import deadlines_remind

    waiting = LoanApplication.objects.filter(
        status__in=(ApplicationStatus.SUBMITTED, ApplicationStatus.ACCEPTED)
    ).select_related("entity", "product")
    announced = set(
        Notification.objects.filter(kind="loan_application", title__startswith="新的贷款申请")
        .values_list("link", flat=True)
        .distinct()
    )
    with transaction.atomic():
        for app in waiting.order_by("submitted_at", "pk"):
            if reverse("marketplace:application_detail", args=[app.pk]) not in announced:
                application_arrival_notify(app)
    deadlines_remind()
