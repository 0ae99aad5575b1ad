"""The table of who may do what, generated from the permission layer for docs/security.md."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.permissions import PERMISSIONS, can
from xinrong.enterprises.models import MarketEntity

BEGIN = "<!-- BEGIN generated: xinrong security-doc -->"
END = "<!-- END generated -->"


@dataclass(frozen=True)
class Persona:
    """A typical login of one role, built in memory to ask the permission layer."""

    column: str
    kind: str
    role: str
    region: str = ""


PERSONAS = [
    Persona("运营管理员", OrgKind.OPERATOR, Role.OPERATOR_ADMIN),
    Persona("审计员", OrgKind.OPERATOR, Role.AUDITOR),
    Persona("子站运营", OrgKind.SUBSTATION, Role.OPERATOR_ADMIN, "632801"),
    Persona("机构管理员", OrgKind.BANK, Role.INSTITUTION_ADMIN),
    Persona("客户经理", OrgKind.BANK, Role.LOAN_OFFICER),
    Persona("审批人员", OrgKind.BANK, Role.REVIEWER),
    Persona("投资机构", OrgKind.INVESTOR, Role.INSTITUTION_ADMIN),
    Persona("数据报送员", OrgKind.GOVERNMENT, Role.DATA_PROVIDER),
    Persona("政策发布员", OrgKind.GOVERNMENT, Role.POLICY_PUBLISHER),
    Persona("资金审批人", OrgKind.GOVERNMENT, Role.FUND_APPROVER),
    Persona("企业主", OrgKind.ENTERPRISE, Role.ENTERPRISE_OWNER),
    Persona("企业经办人", OrgKind.ENTERPRISE, Role.ENTERPRISE_AGENT),
    # 甘霖工程's field officers (issue 16, grid): a bank's and a community's
    Persona("银行网格员", OrgKind.BANK, Role.FIELD_OFFICER),
    Persona("社区网格员", OrgKind.GOVERNMENT, Role.FIELD_OFFICER, "630102"),
]


def persona_user(p: Persona) -> User:
    """Return an unsaved user of the persona's organisation kind, role and region."""
    org = Organisation(pk=None, name=p.column, kind=p.kind, region_code=p.region)
    if p.kind == OrgKind.ENTERPRISE:
        org.market_entity = MarketEntity(name=p.column)  # registered in the registry
    user = User(username=p.column, organisation=org, is_active=True)
    user._role_codes = frozenset({p.role})
    return user


def access_table() -> str:
    """Return the Markdown table: one row per permission, a ✓ per role that has it."""
    users = [(p, persona_user(p)) for p in PERSONAS]
    head = "| 操作 | 名称 | " + " | ".join(p.column for p in PERSONAS) + " | 对象与范围 |"
    rule = "|" + "---|" * (len(PERSONAS) + 3)
    lines = [head, rule]
    with translation.override("zh-hans"):
        for name in sorted(PERMISSIONS):
            spec = PERMISSIONS[name]
            marks = " | ".join("✓" if can(u, name) else "" for _p, u in users)
            lines.append(f"| {spec.label} | `{name}` | {marks} | {spec.objects} |")
    return "\n".join(lines)


def render_into(text: str) -> str:
    """Return ``text`` with the part between the markers replaced by the current table."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + access_table() + "\n" + text[end:]
