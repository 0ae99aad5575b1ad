"""At most one latest credit profile per entity (a database constraint).

Before it is added, an entity left with several latest snapshots (two scoring runs racing
before the scoring lock existed) keeps only its newest one as latest.
"""

from django.db import migrations, models
from django.db.models import Count


def keep_newest_latest(apps, schema_editor):
    CreditProfile = apps.get_model("credit", "CreditProfile")
    twice = (
        CreditProfile.objects.filter(is_latest=True)
        .values("entity_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("entity_id", flat=True)
    )
    for entity_id in list(twice):  # rare: only entities hit by a race
        rows = CreditProfile.objects.filter(entity_id=entity_id, is_latest=True)
        newest = rows.order_by("-computed_at", "-id").values_list("id", flat=True).first()
        rows.exclude(id=newest).update(is_latest=False)


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0007_warning_rule_settings"),
        ("enterprises", "0003_guarantees_address_phone_keys"),
    ]

    operations = [
        migrations.RunPython(keep_newest_latest, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="creditprofile",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_latest", True)),
                fields=("entity",),
                name="credit_creditprofile_one_latest",
            ),
        ),
    ]
