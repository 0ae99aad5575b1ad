"""Migration 0009 moves the conflict timeline onto the kernel's event shape without losing rows."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("datahub", "0008_batch_bounds_and_recovery")]
AFTER = [("datahub", "0009_timeline_events")]


@pytest.fixture
def back_to_latest():
    """Leave the database on the latest migrations of every app (later tests expect it)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_conflict_events_survive_the_move_to_timeline_events(back_to_latest):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    entity = old.get_model("enterprises", "MarketEntity").objects.create(
        uscc="91630100MA752X1L2X", name="迁移测试有限公司", division_code="630102"
    )
    conflict = old.get_model("datahub", "Conflict").objects.create(
        entity=entity,
        rule="legal_rep_mismatch",
        severity="high",
        sources=["registry", "tax"],
        detail={"tax": "韩梅"},
        fingerprint="f" * 64,
        status="dismissed",
        resolved_at=timezone.now(),
    )
    old.get_model("datahub", "ConflictEvent").objects.create(
        conflict=conflict,
        kind="resolved",
        from_status="open",
        to_status="dismissed",
        note="误报",
        data={"blamed": ""},
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    event = new.get_model("datahub", "ConflictEvent").objects.get()
    assert (event.conflict_id, event.kind, event.from_status, event.to_status, event.note) == (
        conflict.pk,
        "resolved",
        "open",
        "dismissed",
        "误报",
    )
    assert event.data == {"blamed": ""} and event.actor_id is None
    assert not new.get_model("datahub", "UnresolvedRowEvent").objects.exists()
