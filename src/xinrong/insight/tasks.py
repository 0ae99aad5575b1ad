"""Background work of insight (run by `xinrong db_worker`).

Tasks import services inside their bodies so that services may enqueue tasks without a circle.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def statistics_refresh_task() -> dict[str, Any]:
    """The periodic job: rebuild the statistics summary of past complete months (set-wise)."""
    from xinrong.insight.services.statistics import summary_refresh

    r = summary_refresh()
    return {"through": r.through.isoformat(), "cells": r.cells, "seconds": round(r.seconds, 2)}
