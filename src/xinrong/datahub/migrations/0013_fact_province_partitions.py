"""Stamp each fact with its entity's province and, on PostgreSQL, partition the table by it.

PostgreSQL: ``datahub_fact`` becomes a LIST-partitioned table on ``province`` (the first two
digits of the entity's GB/T 2260 division code), one partition a province-level division and a
DEFAULT partition for anything else (an empty province, a code not in the list). PostgreSQL
requires the partition key in every unique index, so the primary key is ``(id, province)`` and
the unique row key ``(entity_id, source_id, row_hash, province)``; Django still addresses rows by
``id``, which stays unique (one sequence). ``id`` alone being no longer unique, the foreign keys
of credit's disputes and repair applications to facts cannot be database foreign keys: they are
replaced by deferred constraint triggers that keep the same two rules (a referenced fact cannot be
deleted; a dispute or application cannot name a missing fact), checked at commit or by
``SET CONSTRAINTS ALL IMMEDIATE`` as the foreign keys were. Django's state still shows those
fields as foreign keys with a constraint: a later migration that alters them on PostgreSQL must
drop the triggers instead (see docs/scaling.md).

SQLite keeps the plain table; only the column and the widened unique key are added there.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

TABLE = "datahub_fact"
# Province-level divisions of GB/T 2260 (31 provinces, autonomous regions and municipalities,
# Taiwan, Hong Kong and Macao). Frozen here: a migration must not read the live reference data.
PROVINCES = [
    *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36"),
    *("37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62"),
    *("63", "64", "65", "71", "81", "82"),
]
COLUMNS = (
    "id, batch_id, source_id, category, entity_id, row_hash, period, occurred_on, "
    "behaviour_end, amount, arrears, quantity, grade, status, flag, reference_no, negative, "
    "retention_until, data, created_at, province"
)
REFERRERS = (("credit_dispute", "fact_id"), ("credit_repairapplication", "fact_id"))


def fill_province(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(
        f"UPDATE {TABLE} SET province = COALESCE((SELECT substr(e.division_code, 1, 2) "  # noqa: S608
        f"FROM enterprises_marketentity e WHERE e.id = {TABLE}.entity_id), '')"
    )


def _rebuild(schema_editor: Any, *, partitioned: bool) -> None:
    """Copy the fact table into a partitioned (or plain) table of the same shape, then swap."""
    run = schema_editor.execute
    new = f"{TABLE}_new"
    tail = " PARTITION BY LIST (province)" if partitioned else ""
    run(
        f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"EXCLUDING IDENTITY){tail}"
    )
    run(f"ALTER TABLE {new} ALTER COLUMN id DROP DEFAULT")
    if partitioned:
        for code in PROVINCES:
            run(f"CREATE TABLE {TABLE}_p{code} PARTITION OF {new} FOR VALUES IN ('{code}')")
        run(f"CREATE TABLE {TABLE}_pdefault PARTITION OF {new} DEFAULT")
    run(f"INSERT INTO {new} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}")  # noqa: S608
    run(f"DROP TABLE {TABLE} CASCADE")  # its identity sequence (or owned sequence) goes with it
    run(f"ALTER TABLE {new} RENAME TO {TABLE}")
    key = "id, province" if partitioned else "id"
    run(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({key})")
    unique = "entity_id, source_id, row_hash, province"
    run(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_unique_row UNIQUE ({unique})")
    run(f"CREATE INDEX {TABLE}_batch_idx ON {TABLE} (batch_id)")
    run(f"CREATE SEQUENCE {TABLE}_id_seq AS bigint OWNED BY {TABLE}.id")
    run(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
    run(f"SELECT setval('{TABLE}_id_seq', COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)")  # noqa: S608


_GUARDS = f"""
CREATE FUNCTION datahub_fact_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {TABLE} WHERE id = OLD.id) THEN
        RETURN NULL;  -- moved to another partition (its province changed), not deleted
    END IF;
    IF EXISTS (SELECT 1 FROM credit_dispute WHERE fact_id = OLD.id)
       OR EXISTS (SELECT 1 FROM credit_repairapplication WHERE fact_id = OLD.id) THEN
        RAISE EXCEPTION 'fact % is still referenced by a dispute or repair application', OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER datahub_fact_referenced AFTER DELETE ON {TABLE}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION datahub_fact_referenced();
CREATE FUNCTION datahub_fact_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    still boolean;
BEGIN
    -- checked at commit: only if the referencing row still names that fact, as a foreign key
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1 AND fact_id = $2)',
                   TG_TABLE_NAME) INTO still USING NEW.id, NEW.fact_id;
    IF still AND NOT EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.fact_id) THEN
        RAISE EXCEPTION 'fact % does not exist', NEW.fact_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
"""  # noqa: S608 (constant table names)


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table, _column in REFERRERS:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = %s::regclass AND confrelid = %s::regclass",
                [table, TABLE],
            )
            names = [r[0] for r in cursor.fetchall()]
        for name in names:
            run(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    _rebuild(schema_editor, partitioned=True)
    run(_GUARDS, params=None)  # RAISE uses % placeholders of its own
    for table, column in REFERRERS:
        run(
            f"CREATE CONSTRAINT TRIGGER {table}_fact_exists AFTER INSERT OR UPDATE OF {column} "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION datahub_fact_exists()"
        )


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table, _column in REFERRERS:
        run(f"DROP TRIGGER IF EXISTS {table}_fact_exists ON {table}")
    run(f"DROP TRIGGER IF EXISTS datahub_fact_referenced ON {TABLE}")
    run("DROP FUNCTION IF EXISTS datahub_fact_referenced(), datahub_fact_exists()")
    _rebuild(schema_editor, partitioned=False)
    for table, column in REFERRERS:
        run(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk_datahub_fact "
            f"FOREIGN KEY ({column}) REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("datahub", "0012_platform_event_outbox"),
        ("enterprises", "0001_initial"),
        ("credit", "0013_lists"),  # the disputes' and repairs' links are rebuilt here
    ]

    operations = [
        migrations.AddField(
            model_name="fact",
            name="province",
            field=models.CharField(blank=True, default="", max_length=2, verbose_name="省级区划"),
        ),
        migrations.RemoveConstraint(model_name="fact", name="datahub_fact_unique_row"),
        migrations.AddConstraint(
            model_name="fact",
            constraint=models.UniqueConstraint(
                fields=("entity", "source", "row_hash", "province"),
                name="datahub_fact_unique_row",
            ),
        ),
        migrations.RunPython(fill_province, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
