"""Add the normalised name used for one-code association by name, and fill it in."""

from django.db import migrations, models


def fill_name_keys(apps, schema_editor):
    from xinrong.enterprises.names import name_key

    MarketEntity = apps.get_model("enterprises", "MarketEntity")
    batch = []
    for pk, name in MarketEntity.objects.values_list("pk", "name").iterator(chunk_size=5000):
        batch.append(MarketEntity(pk=pk, name_key=name_key(name)))
        if len(batch) >= 5000:
            MarketEntity.objects.bulk_update(batch, ["name_key"])
            batch = []
    if batch:
        MarketEntity.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="marketentity",
            name="name_key",
            field=models.CharField(
                db_index=True,
                default="",
                editable=False,
                max_length=200,
                verbose_name="名称匹配键",
            ),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
