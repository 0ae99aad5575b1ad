"""Fingerprint conflicts by what identifies them, not by the period a value was read from.

Registry-vs-tax findings are identified by the compared values and a deregistered entity's
billing by the entity alone, so a difference already handled is not raised again every month.
Where several rows now share an identity, one of them (a handled one if any, else the oldest)
takes the new fingerprint and future findings match it; the others keep their old fingerprints,
status and timeline, so no history is lost and open ones stay in the queue until handled.
"""

import hashlib
import json

from django.db import migrations

IDENTITY = {
    "legal_rep_mismatch": ("field", "registry", "tax"),
    "address_mismatch": ("field", "registry", "tax"),
    "name_mismatch": ("field", "registry", "tax"),
    "deregistered_billed": (),
}


def _fingerprint(keys, detail):
    part = {k: detail.get(k) for k in keys}
    return hashlib.sha256(
        json.dumps(part, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def forwards(apps, schema_editor):
    Conflict = apps.get_model("datahub", "Conflict")
    for rule, keys in IDENTITY.items():
        groups = {}
        rows = Conflict.objects.filter(rule=rule).order_by("created_at", "id")
        for c in rows.iterator(chunk_size=2000):
            groups.setdefault((c.entity_id, _fingerprint(keys, c.detail)), []).append(c)
        for (_entity, fp), members in groups.items():
            keep = next((c for c in members if c.status != "open"), members[0])
            if keep.fingerprint != fp:
                Conflict.objects.filter(pk=keep.pk).update(fingerprint=fp)


class Migration(migrations.Migration):
    dependencies = [("datahub", "0005_conflict_workflow")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
