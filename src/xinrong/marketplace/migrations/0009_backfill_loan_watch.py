"""Lenders of loans outstanding before post-loan watches existed start receiving warnings."""

from django.db import migrations


def forwards(apps, schema_editor):
    Loan = apps.get_model("marketplace", "Loan")
    LoanWatch = apps.get_model("credit", "LoanWatch")
    rows = Loan.objects.exclude(status="settled").values_list(
        "entity_id", "institution_id", "number"
    )
    LoanWatch.objects.bulk_create(
        [LoanWatch(entity_id=e, institution_id=i, reference=n) for e, i, n in rows.iterator()],
        batch_size=2000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0006_loan_watch"),
        ("marketplace", "0008_reserve_close_events"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
