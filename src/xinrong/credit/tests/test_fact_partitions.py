"""The fact table's province: stamped at ingestion; on PostgreSQL the partition key, and region-
scoped reads (archive, features of a province, quality statistics of a region) touch one
partition only (EXPLAIN names the partitions a plan scans)."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.db import connection

from xinrong.accounts.choices import OrgKind
from xinrong.credit.features import scorable_facts
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_of_entity, fact_region_q, fact_visible
from xinrong.datahub.services.facts import fact_province_sync

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitioning is PostgreSQL's"
)


def _partition_of(fact_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM datahub_fact WHERE id = %s", [fact_id])
        return str(cursor.fetchone()[0])


def _scanned(qs) -> set[str]:
    plan = qs.explain()
    # "Seq Scan on datahub_fact_p63 …", "Index Scan using … on datahub_fact_p63 …"
    return set(re.findall(r"\bon (datahub_fact_p(?:\d\d|default))\b", plan))


def test_a_fact_carries_its_entitys_province(entity, tax_fact):
    assert entity.division_code.startswith("63")
    tax_fact.refresh_from_db()
    assert tax_fact.province == "63"
    if connection.vendor == "postgresql":
        assert _partition_of(tax_fact.pk) == "datahub_fact_p63"


def test_a_moved_entitys_facts_follow_it(entity, tax_fact):
    entity.division_code = "110101"
    entity.save(update_fields=["division_code"])
    assert fact_province_sync(entity_ids=[entity.pk]) == 1
    assert fact_province_sync(entity_ids=[entity.pk]) == 0  # nothing left to move
    assert list(fact_of_entity(entity)) == [Fact.objects.get(pk=tax_fact.pk)]
    if connection.vendor == "postgresql":
        assert _partition_of(tax_fact.pk) == "datahub_fact_p11"


@postgres_only
def test_the_fact_table_is_partitioned_by_province():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'datahub_fact'::regclass"
        )
        assert cursor.fetchone() == ("l",)
        cursor.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'datahub_fact'::regclass"
        )
        assert cursor.fetchone() == (35,)  # 34 province-level divisions + DEFAULT


@postgres_only
def test_region_scoped_reads_scan_one_partition(entity, tax_fact):
    assert len(_scanned(fact_visible())) == 35  # unscoped: every partition
    # the archive of one enterprise
    assert _scanned(fact_of_entity(entity)) == {"datahub_fact_p63"}
    # the features of one province (a per-province scoring task)
    features = scorable_facts(as_of=dt.date(2025, 1, 1)).filter(province="63")
    assert _scanned(features) == {"datahub_fact_p63"}
    # statistics of a sub-station's region (data quality per source)
    substation = SimpleNamespace(
        is_superuser=False,
        organisation=SimpleNamespace(kind=OrgKind.SUBSTATION, region_code="630100"),
    )
    regional = fact_visible().filter(fact_region_q(substation)).values("source_id")
    assert _scanned(regional) == {"datahub_fact_p63"}
    assert list(regional) == [{"source_id": tax_fact.source_id}]
