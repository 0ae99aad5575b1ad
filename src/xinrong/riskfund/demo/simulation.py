"""Demo: one saved sufficiency simulation of the provincial fund with the four default scenarios."""

from __future__ import annotations

from typing import Any

from xinrong.riskfund.eligibility import rules_in_force
from xinrong.riskfund.services import simulation as services

DEMO_PATHS = 500  # enough for readable charts, fast enough for the demo seed


def seed_simulation(ctx: dict[str, Any]) -> dict[str, int]:
    """Run and save one simulation (operator, provincial fund, ρ = 0.1, 2 years)."""
    fund = ctx["funds"]["qinghai"]
    actor = ctx["users"]["operator"]
    rules = rules_in_force(fund, ctx["today"])
    sim = services.simulation_run(
        actor=actor,
        data=services.SimulationIn(
            fund=fund,
            name=f"{fund.name} 补偿规则调整测算（示例）",
            scenarios=services.default_scenarios(rules),
            paths=DEMO_PATHS,
            seed=2026,
            horizon_years=2,
            rho=0.1,
            lgd=0.6,
        ),
    )
    return {"simulations": 1, "simulation_paths": sim.paths}
