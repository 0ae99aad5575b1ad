"""Run and save a fund-sufficiency simulation (资金充足性测算).

A scenario is the fund's rules in force today with three overrides: the loan cap, whether
individual businesses (个体工商户) are covered, and the government share. Each loan's payout if
it defaults is ``outstanding × LGD × share`` when the scenario covers it (a loan above the cap
is not covered at all), its PD comes from its borrower's latest credit profile; the engine
(``riskfund.simulation``) draws the years. Loans already defaulted and not yet compensated are
a payout ahead: their share is set aside from the balance before the simulated years.

**Province scale.** The platform holds a sample of Qinghai's market entities. With
``province_scale`` the fund's book is scaled to Qinghai's 520,000 entities (74% individual
businesses) by resampling whole borrowers: per entity type *t*, the platform's borrowers of that
type in the fund's region are drawn with replacement ``borrowers_t × 520,000 × share_t ÷
registered_t`` times (``registered_t`` = the platform's entities of type *t* in Qinghai), each
bringing all its outstanding loans. The borrowing rate, loan sizes and PDs per type stay the
platform's; only the counts grow to the province's.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.permissions import require
from xinrong.common.errors import ApplicationError
from xinrong.riskfund import simulation as engine
from xinrong.riskfund.models import Fund, RuleSet, Simulation
from xinrong.riskfund.selectors import simulation as sel
from xinrong.riskfund.services.ledger import fund_balance

MAX_PATHS = 10_000  # on the page (the engine itself has no limit)
MAX_YEARS = 10
MAX_SCENARIOS = 6
MAX_DRAWS = 600_000_000  # loans × paths × years run while the user waits (a few seconds)
PROVINCE_ENTITIES = 520_000
PROVINCE_INDIVIDUAL_SHARE = 0.74
INDIVIDUAL = "individual_business"
WAN = Decimal("10000")


@dataclass(frozen=True)
class ScenarioIn:
    """One scenario: the rules in force today with these overrides."""

    name: str
    loan_cap: Decimal  # yuan
    individual: bool  # individual businesses covered
    share: Decimal  # government share, 0.3 = 3:7


@dataclass(frozen=True)
class SimulationIn:
    """What a simulation is asked to do."""

    fund: Fund
    name: str
    scenarios: list[ScenarioIn]
    paths: int = 2_000
    seed: int = 2026
    horizon_years: int = 1
    rho: float = 0.0
    lgd: float = sel.DEFAULT_LGD
    province_scale: bool = False


def share_text(share: Decimal) -> str:
    """0.3 → "3:7"."""
    gov = (share * 10).normalize()
    return f"{gov:f}:{(10 - share * 10).normalize():f}"


def default_scenarios(rules: RuleSet | None) -> list[ScenarioIn]:
    """The four scenarios the simulator starts with: today's rules, ¥10m cap, + individual
    businesses, + a 4:6 share."""
    cap = rules.loan_cap if rules is not None else Decimal("5000000")
    share = rules.gov_share if rules is not None else Decimal("0.3")
    individual = rules is not None and INDIVIDUAL in rules.entity_types
    ten = Decimal("10000000")
    return [
        ScenarioIn(_("现行规则"), cap, individual, share),
        ScenarioIn(_("单笔上限提至1000万元"), ten, individual, share),
        ScenarioIn(_("1000万元＋个体工商户"), ten, True, share),
        ScenarioIn(_("1000万元＋个体工商户＋4:6"), ten, True, Decimal("0.4")),
    ]


def _check(data: SimulationIn, loans: int | None = None) -> None:
    """Every problem of the request at once (422), naming the field and the rule."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not data.name.strip():
        add("name", _("测算名称不能为空"))
    if not 1 <= data.paths <= MAX_PATHS:
        add("paths", _("模拟路径数应在 1 到 %(n)s 之间") % {"n": f"{MAX_PATHS:,}"})
    if not 1 <= data.horizon_years <= MAX_YEARS:
        add("horizon_years", _("测算年数应在 1 到 %(n)d 年之间") % {"n": MAX_YEARS})
    if not 0 <= data.rho < 1:
        add("rho", _("违约相关系数应不小于 0 且小于 1"))
    if not 0 < data.lgd <= 1:
        add("lgd", _("违约损失率应大于 0 且不超过 100%"))
    if not 0 <= data.seed < 2**63:
        add("seed", _("随机种子应为非负整数"))
    if not 1 <= len(data.scenarios) <= MAX_SCENARIOS:
        add("scenarios", _("请设置 1 到 %(n)d 个情景") % {"n": MAX_SCENARIOS})
    for i, s in enumerate(data.scenarios, start=1):
        if s.loan_cap <= 0:
            add(f"s{i}_cap", _("情景%(i)d的单笔上限必须大于0") % {"i": i})
        if not 0 < s.share <= 1:
            add(f"s{i}_share", _("情景%(i)d的政府分担比例应大于0且不超过1") % {"i": i})
    if loans is not None and loans * data.paths * data.horizon_years > MAX_DRAWS:
        most = max(MAX_DRAWS // max(loans * data.horizon_years, 1), 1)
        add(
            "paths",
            _(
                "计算量过大：%(loans)s 笔贷款 × %(paths)s 条路径 × %(years)d 年，"
                "页面上最多 %(most)s 条路径，请减少路径数或测算年数"
            )
            % {
                "loans": f"{loans:,}",
                "paths": f"{data.paths:,}",
                "years": data.horizon_years,
                "most": f"{most:,}",
            },
        )
    if errors:
        raise ValidationError(errors)


def province_scaled(
    fund: Fund, book: sel.Portfolio, seed: int
) -> tuple[sel.Portfolio, dict[str, Any]]:
    """Scale the fund's book to the province's entity counts (see the module docstring)."""
    from xinrong.enterprises.models import MarketEntity

    registered = dict(
        MarketEntity.objects.filter(division_code__startswith="63")
        .values_list("entity_type")
        .annotate(n=Count("id"))
        .values_list("entity_type", "n")
    )
    shares = {INDIVIDUAL: PROVINCE_INDIVIDUAL_SHARE, "enterprise": 1 - PROVINCE_INDIVIDUAL_SHARE}
    targets: dict[str, int] = {}
    factors: dict[str, float] = {}
    for kind, share in shares.items():
        n = registered.get(kind, 0)
        borrowers = np.unique(book.entity_id[book.entity_type == kind]).size
        if n == 0 or borrowers == 0:
            continue
        factors[kind] = PROVINCE_ENTITIES * share / n
        targets[kind] = round(borrowers * factors[kind])
    rows = engine.resample_entities(
        book.entity_id,
        book.entity_type,
        targets=targets,
        rng=np.random.default_rng(seed),
    )
    return book.take(rows), {"factors": factors, "borrowers": targets}


def simulation_run(*, actor: Any, data: SimulationIn) -> Simulation:
    """Simulate the fund's yearly payouts under each scenario and save the run."""
    require(actor, "riskfund.simulate", data.fund)
    _check(data)
    today = timezone.localdate()
    rules = sel.rules_today(data.fund, today)
    if rules is None:
        raise ApplicationError(
            "no_rules",
            _("%(fund)s今天没有生效的补偿规则，无法测算") % {"fund": data.fund.name},
            {"field": "fund"},
            status=422,
        )
    started = time.perf_counter()
    book = sel.fund_portfolio(data.fund)
    scale_note: dict[str, Any] = {}
    if data.province_scale and len(book):
        book, scale_note = province_scaled(data.fund, book, data.seed)
    _check(data, loans=len(book))

    masks, losses = [], []
    for s in data.scenarios:
        types = set(rules.entity_types)
        if s.individual:
            types.add(INDIVIDUAL)
        else:
            types.discard(INDIVIDUAL)
        mask = sel.eligible_mask(
            book,
            entity_types=sorted(types),
            sizes=list(rules.sizes),
            loan_kinds=list(rules.loan_kinds),
            loan_cap=float(s.loan_cap),
        )
        masks.append(mask)
        losses.append(np.where(mask, book.exposure * data.lgd * float(s.share), 0.0))
    loss = np.stack(losses, axis=1) if losses else np.zeros((0, 0))
    live = ~book.pending
    payouts = engine.simulate_payouts(
        book.pd[live],
        loss[live],
        paths=data.paths,
        years=data.horizon_years,
        rho=data.rho,
        seed=data.seed,
    )
    expected = engine.expected_payout(book.pd[live], loss[live])
    balance = float(fund_balance(data.fund))
    injection = float(data.fund.yearly_injection)
    results = []
    for i, s in enumerate(data.scenarios):
        reserve = float(loss[book.pending, i].sum())
        summary = engine.summarise(
            payouts[i],
            expected=float(expected[i]),
            balance=balance - reserve,
            injection=injection,
        )
        mask = masks[i]
        results.append(
            {
                "name": s.name,
                "loan_cap": str(s.loan_cap),
                "individual": s.individual,
                "share": str(s.share),
                "share_text": share_text(s.share),
                "loans": int((mask & live).sum()),
                "exposure": round(float(book.exposure[mask & live].sum()), 2),
                "pending_loans": int((mask & book.pending).sum()),
                "reserve": round(reserve, 2),
                **summary.as_json(),
            }
        )
    portfolio = {
        "loans": int(live.sum()),
        "exposure": round(float(book.exposure[live].sum()), 2),
        "scored": int((book.scored & live).sum()),
        "mean_pd": round(float(book.pd[live].mean()), 6) if live.any() else 0.0,
        "pending": int(book.pending.sum()),
        "balance": round(balance, 2),
        "injection": round(injection, 2),
        "rho": data.rho,
        "lgd": data.lgd,
        "province_scale": data.province_scale,
        "scale": scale_note,
        "rules_version": rules.version,
        "rules_from": rules.effective_from.isoformat(),
        "on": today.isoformat(),
    }
    duration = int((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        sim = Simulation(
            fund=data.fund,
            name=data.name.strip()[:100],
            paths=data.paths,
            seed=data.seed,
            horizon_years=data.horizon_years,
            scenarios=[
                {**asdict(s), "loan_cap": str(s.loan_cap), "share": str(s.share)}
                for s in data.scenarios
            ],
            results=results,
            portfolio=portfolio,
            duration_ms=duration,
            created_by=actor,
        )
        sim.full_clean()
        sim.save()
    return sim
