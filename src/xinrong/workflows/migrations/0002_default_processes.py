"""Install the processes the platform ships (credit repair approval) as active version 1."""

from typing import Any

from django.db import migrations
from django.utils import timezone


def install(apps: Any, schema_editor: Any) -> None:
    from xinrong.workflows.services import DEFAULT_PROCESSES, PROCESS_DIR, clean_lane_map

    definition_model = apps.get_model("workflows", "ProcessDefinition")
    version_model = apps.get_model("workflows", "ProcessVersion")
    now = timezone.now()
    for default in DEFAULT_PROCESSES:
        definition, _created = definition_model.objects.get_or_create(
            key=default.key,
            defaults={
                "name": str(default.name),
                "description": str(default.description),
                "variables": dict(default.variables),
            },
        )
        if version_model.objects.filter(definition=definition).exists():
            continue
        version_model.objects.create(
            definition=definition,
            number=1,
            bpmn_xml=(PROCESS_DIR / default.filename).read_text(encoding="utf-8"),
            lane_map=clean_lane_map(default.lane_map),
            status="active",
            errors=[],
            validated_at=now,
            activated_at=now,
            note="平台默认流程",
        )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_processes")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
