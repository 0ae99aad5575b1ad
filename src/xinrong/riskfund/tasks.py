"""Background work of the risk fund (run by `xinrong db_worker`).

Tasks import services inside their bodies so that services may enqueue tasks without a circle.
"""

from __future__ import annotations

from django_tasks import task


@task()
def breaker_sweep_task() -> dict[str, int]:
    """The periodic job: record each institution's change of breaker standing (熔断 ↔ 恢复) under
    every active fund, and tell the institution once."""
    from xinrong.riskfund.services.rules import breaker_sweep

    return breaker_sweep()
