"""Run by test_replica.py in a subprocess whose default database is a private primary and whose
``replica`` is its streaming standby: prints, as JSON, which alias each phase's queries used."""

from __future__ import annotations

import json
import time
from typing import Any

import django


def main() -> None:
    django.setup()
    from django.db import connections

    from xinrong.common.replica import replica_reads
    from xinrong.credit.selectors.scoring import profile_latest, score_history
    from xinrong.datahub.selectors import fact_of_entity
    from xinrong.enterprises.models import MarketEntity
    from xinrong.enterprises.tests.factories import MarketEntityFactory
    from xinrong.insight.selectors.statistics import summary_refreshed_at

    seen: dict[str, list[str]] = {"default": [], "replica": []}

    def recorder(alias: str) -> Any:
        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            seen[alias].append(sql)
            return execute(sql, params, many, context)

        return wrapper

    for alias in seen:
        connections[alias].execute_wrappers.append(recorder(alias))

    def phase() -> dict[str, int]:
        out = {alias: len(sqls) for alias, sqls in seen.items()}
        for sqls in seen.values():
            sqls.clear()
        return out

    report: dict[str, Any] = {}
    entity = MarketEntityFactory()  # written on the primary (no marked block)
    report["write"] = phase()
    started = time.monotonic()
    while not MarketEntity.objects.using("replica").filter(pk=entity.pk).exists():
        time.sleep(0.05)
        if time.monotonic() - started > 10:
            raise SystemExit("the replica never received the row")
    report["lag_seconds"] = round(time.monotonic() - started, 3)
    phase()
    with replica_reads():
        # the portrait's and the statistics dashboard's reads
        found = MarketEntity.objects.get(uscc=entity.uscc)
        report["found_on_replica"] = found.pk == entity.pk
        profile_latest(entity=found)
        score_history(entity=found)
        fact_of_entity(found).count()
        summary_refreshed_at()
        report["marked_reads"] = phase()
        found.name = found.name + "（更名）"
        found.save(update_fields=["name"])  # a write inside the block: the primary
        report["marked_write"] = phase()
        report["renamed_seen"] = MarketEntity.objects.get(pk=entity.pk).name == found.name
        report["reads_after_write"] = phase()
    MarketEntity.objects.filter(pk=entity.pk).exists()
    report["unmarked_reads"] = phase()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
