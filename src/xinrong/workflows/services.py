"""Change approval processes: draft a new version, save it (checked), activate it.

A version is edited only while it is a draft; activating a checked version retires the one in
use. Cases already running keep their own version (xinrong.workflows.engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts.choices import Role
from xinrong.audit.services import audit_record
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.workflows import bpmn
from xinrong.workflows.choices import VersionStatus
from xinrong.workflows.models import ProcessDefinition, ProcessVersion

PROCESS_DIR = Path(__file__).resolve().parent / "processes"


@dataclass(frozen=True)
class DefaultProcess:
    """A process the platform ships, installed as version 1 (active) when missing."""

    key: str
    name: Any
    description: Any
    filename: str
    variables: Mapping[str, Any]
    lane_map: Mapping[str, Mapping[str, Any]]


DEFAULT_PROCESSES: tuple[DefaultProcess, ...] = (
    DefaultProcess(
        key="credit.repair_approval",
        name=gettext_lazy("信用修复审核"),
        description=gettext_lazy(
            "数据提供部门审核 →（涉及处罚记录超过 5 条时由部门另一位人员复核）→ 平台运营方确认；"
            "任一步不同意即不予修复"
        ),
        filename="repair_approval.bpmn",
        variables={"records": 1, "division_code": "630000", "approved": True},
        lane_map={
            # the department that holds the record (the domain checks which one); the
            # operator's admins may stand in for a department, as they always could
            "Lane_department": {
                "roles": [Role.DATA_PROVIDER.value, Role.OPERATOR_ADMIN.value],
                "users": [],
                "org_kind": "",
            },
            "Lane_operator": {"roles": [Role.OPERATOR_ADMIN.value], "users": [], "org_kind": ""},
        },
    ),
    DefaultProcess(
        key="policies.special_fund_approval",
        name=gettext_lazy("专项资金审批"),
        description=gettext_lazy(
            "受理部门（措施所属部门的政策发布员）审核并提出核定金额 → 财政部门审核确认；"
            "任一步不同意即未通过"
        ),
        filename="special_fund_approval.bpmn",
        variables={"approved": True, "requested": 100000, "amount": 100000},
        lane_map={
            # the measure's own department (the domain checks which one)
            "Lane_department": {
                "roles": [Role.POLICY_PUBLISHER.value],
                "users": [],
                "org_kind": "government",
            },
            # finance approves across departments
            "Lane_finance": {
                "roles": [Role.FUND_APPROVER.value],
                "users": [],
                "org_kind": "government",
            },
        },
    ),
    DefaultProcess(
        key="riskfund.claim_approval",
        name=gettext_lazy("风险补偿审批"),
        description=gettext_lazy(
            "平台运营方受理审核 → 基金管理部门（财政）审核 →（补偿金额 100 万元及以上时由财政"
            "另一位人员复核）；任一步不同意即未通过；最后一步同意即从基金支付"
        ),
        filename="claim_approval.bpmn",
        variables={"approved": True, "amount": 100000},
        lane_map={
            # the fund's office (the domain checks which fund and region)
            "Lane_office": {"roles": [Role.OPERATOR_ADMIN.value], "users": [], "org_kind": ""},
            # the fund's manager (财政): the domain checks the fund's manager organisation
            "Lane_finance": {
                "roles": [Role.FUND_APPROVER.value],
                "users": [],
                "org_kind": "government",
            },
            # a second person of the same finance department (never the finance step's)
            "Lane_review": {
                "roles": [Role.FUND_APPROVER.value],
                "users": [],
                "org_kind": "government",
            },
        },
    ),
)


def clean_lane_map(lane_map: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return a lane mapping in its stored shape (roles, user ids, org kind per lane)."""
    cleaned: dict[str, dict[str, Any]] = {}
    for lane_id, entry in lane_map.items():
        entry = entry or {}
        cleaned[str(lane_id)] = {
            "roles": sorted({str(r) for r in entry.get("roles", []) if r}),
            "users": sorted({int(u) for u in entry.get("users", []) if str(u).strip()}),
            "org_kind": str(entry.get("org_kind", "") or ""),
        }
    return cleaned


def version_problems(version: ProcessVersion) -> list[bpmn.Problem]:
    """Return every problem of a version (nothing when it may be activated)."""
    problems = bpmn.validate(
        version.bpmn_xml,
        lane_map=version.lane_map,
        variables=version.definition.variables,
        known_roles=Role.values,
    )
    from django.contrib.auth import get_user_model

    users = {int(u) for entry in version.lane_map.values() for u in entry.get("users", [])}
    if users:
        found = set(
            get_user_model()
            .objects.filter(pk__in=users, is_active=True)
            .values_list("pk", flat=True)
        )
        for missing in sorted(users - found):
            problems.append(
                bpmn.Problem(
                    "", "", _("指定人员（用户编号 %(pk)s）不存在或已停用") % {"pk": missing}
                )
            )
    return problems


def _check(version: ProcessVersion) -> list[bpmn.Problem]:
    problems = version_problems(version)
    version.errors = [p.as_dict() for p in problems]
    version.validated_at = timezone.now()
    return problems


@transaction.atomic
def version_draft(*, definition: ProcessDefinition, user: Any) -> ProcessVersion:
    """Return the process's open draft, or a new draft copied from its latest version."""
    definition = ProcessDefinition.objects.select_for_update().get(pk=definition.pk)
    draft = definition.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()
    if draft is not None:
        return draft
    latest = definition.versions.order_by("-number").first()
    number = (definition.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = ProcessVersion(
        definition=definition,
        number=number,
        bpmn_xml=latest.bpmn_xml if latest else "",
        lane_map=dict(latest.lane_map) if latest else {},
        status=VersionStatus.DRAFT,
        created_by=user,
        note=(_("由第 %(n)d 版复制") % {"n": latest.number}) if latest else "",
    )
    draft.full_clean()
    draft.save()
    return draft


@transaction.atomic
def version_save(
    *,
    version: ProcessVersion,
    bpmn_xml: str,
    lane_map: Mapping[str, Any],
    user: Any,
    note: str = "",
) -> tuple[ProcessVersion, list[bpmn.Problem]]:
    """Save a draft's diagram and lane mapping, check it and keep the report (all problems)."""
    version = (
        ProcessVersion.objects.select_for_update().select_related("definition").get(pk=version.pk)
    )
    if version.status != VersionStatus.DRAFT:
        raise ConflictError(
            "version_not_draft",
            _("第 %(n)d 版已%(status)s，不能再修改；请新建草稿")
            % {"n": version.number, "status": version.get_status_display()},
        )
    version.bpmn_xml = bpmn_xml
    version.lane_map = clean_lane_map(lane_map)
    if note:
        version.note = note[:200]
    problems = _check(version)
    version.save()
    return version, problems


@transaction.atomic
def version_activate(*, version: ProcessVersion, user: Any) -> ProcessVersion:
    """Activate a checked draft; the version in use is retired (its cases finish on it)."""
    definition = ProcessDefinition.objects.select_for_update().get(pk=version.definition_id)
    version = ProcessVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ConflictError(
            "version_not_draft",
            _("第 %(n)d 版是「%(status)s」，只有草稿可以启用")
            % {"n": version.number, "status": version.get_status_display()},
        )
    problems = _check(version)
    if problems:
        version.save(update_fields=["errors", "validated_at"])
        raise ApplicationError(
            "version_invalid",
            _("第 %(n)d 版未通过检查，不能启用：%(errors)s")
            % {"n": version.number, "errors": "；".join(p.message for p in problems)},
            {"errors": [p.as_dict() for p in problems]},
        )
    now = timezone.now()
    definition.versions.filter(status=VersionStatus.ACTIVE).update(status=VersionStatus.RETIRED)
    version.status = VersionStatus.ACTIVE
    version.activated_at = now
    version.save()
    audit_record(
        category="config",
        action="bpmn.version_activate",
        actor=user,
        target_type="workflows.processversion",
        target_id=version.pk,
        target_label=_("%(name)s 第 %(n)d 版") % {"name": definition.name, "n": version.number},
    )
    return version


@transaction.atomic
def ensure_default_processes() -> list[ProcessVersion]:
    """Install the shipped processes as active version 1 where a process has no version yet."""
    installed: list[ProcessVersion] = []
    for default in DEFAULT_PROCESSES:
        definition, _created = ProcessDefinition.objects.get_or_create(
            key=default.key,
            defaults={
                "name": str(default.name),
                "description": str(default.description),
                "variables": dict(default.variables),
            },
        )
        if definition.versions.exists():
            continue
        version = ProcessVersion.objects.create(
            definition=definition,
            number=1,
            bpmn_xml=(PROCESS_DIR / default.filename).read_text(encoding="utf-8"),
            lane_map=clean_lane_map(default.lane_map),
            status=VersionStatus.DRAFT,
            note=_("平台默认流程"),
        )
        installed.append(version_activate(version=version, user=None))
    return installed
