"""Give the service users of existing institution API keys the reviewer role.

An institution's own system pushes credit decisions (approve, default) through the bank API;
those need the reviewer role (docs/decisions/0005-bank-api-signing.md). New keys get it at
creation; this brings the keys issued before up to date. Reversing removes only what this added.
"""

from django.db import migrations

# accounts.choices.INSTITUTION_KINDS at the time of writing (migrations keep their own copy).
INSTITUTION_KINDS = ("bank", "microloan", "insurer", "guarantor", "investor")
REVIEWER = "reviewer"


def grant(apps, schema_editor):
    ApiKey = apps.get_model("accounts", "ApiKey")
    UserRole = apps.get_model("accounts", "UserRole")
    users = ApiKey.objects.filter(organisation__kind__in=INSTITUTION_KINDS).values_list(
        "service_user_id", flat=True
    )
    have = set(UserRole.objects.filter(role=REVIEWER).values_list("user_id", flat=True))
    UserRole.objects.bulk_create(
        UserRole(user_id=user_id, role=REVIEWER) for user_id in users if user_id not in have
    )


def revoke(apps, schema_editor):
    ApiKey = apps.get_model("accounts", "ApiKey")
    UserRole = apps.get_model("accounts", "UserRole")
    users = ApiKey.objects.filter(organisation__kind__in=INSTITUTION_KINDS).values_list(
        "service_user_id", flat=True
    )
    UserRole.objects.filter(role=REVIEWER, user_id__in=list(users)).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_apikey_signing_secret_nonces_idempotency")]

    operations = [migrations.RunPython(grant, revoke)]
