"""Guarantees in the registry; matching keys for shared addresses and phones, filled in."""

from django.db import migrations, models

BATCH = 5000


def fill_keys(apps, schema_editor):
    from xinrong.enterprises.names import address_key
    from xinrong.enterprises.services import person_phone_index

    MarketEntity = apps.get_model("enterprises", "MarketEntity")
    batch = []
    rows = MarketEntity.objects.exclude(address="").values_list("pk", "address")
    for pk, address in rows.iterator(chunk_size=BATCH):
        batch.append(MarketEntity(pk=pk, address_key=address_key(address)))
        if len(batch) >= BATCH:
            MarketEntity.objects.bulk_update(batch, ["address_key"])
            batch = []
    if batch:
        MarketEntity.objects.bulk_update(batch, ["address_key"])

    Person = apps.get_model("enterprises", "Person")
    people = []
    # the phone column is encrypted: only rows that hold one are read and decrypted
    for person in Person.objects.exclude(phone="").only("pk", "phone").iterator(chunk_size=BATCH):
        people.append(Person(pk=person.pk, phone_index=person_phone_index(person.phone)))
        if len(people) >= BATCH:
            Person.objects.bulk_update(people, ["phone_index"])
            people = []
    if people:
        Person.objects.bulk_update(people, ["phone_index"])


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0002_marketentity_name_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="marketentity",
            name="address_key",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                max_length=255,
                verbose_name="住所匹配键",
            ),
        ),
        migrations.AddField(
            model_name="person",
            name="phone_index",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                max_length=64,
                verbose_name="手机号索引",
            ),
        ),
        migrations.AddField(
            model_name="relationship",
            name="guaranteed_amount",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=16,
                null=True,
                verbose_name="担保金额（元）",
            ),
        ),
        migrations.AlterField(
            model_name="relationship",
            name="kind",
            field=models.CharField(
                choices=[
                    ("shareholder", "股东"),
                    ("executive", "高管"),
                    ("legal_representative", "法定代表人"),
                    ("actual_controller", "实际控制人"),
                    ("guarantor", "担保人"),
                ],
                max_length=24,
                verbose_name="关系类型",
            ),
        ),
        migrations.AddIndex(
            model_name="relationship",
            index=models.Index(
                condition=models.Q(("kind", "guarantor")),
                fields=["holder_entity", "entity"],
                name="ent_rel_guarantee_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="relationship",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("guaranteed_amount__isnull", True),
                    models.Q(("kind", "guarantor"), ("guaranteed_amount__gte", 0)),
                    _connector="OR",
                ),
                name="enterprises_relationship_guaranteed_amount",
            ),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]
