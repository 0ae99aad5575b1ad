"""The demo organisations (operator, substation, institutions, departments) and demo logins.

Names come from ``data/organisations.toml`` and ``data/users.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.insight.demo.grid import BANK_LOGIN, COMMUNITY_LOGIN
from xinrong.web.seed.base import DEMO_PASSWORD, SeedReport, load_data

_ORGS = load_data("organisations")
OPERATOR_NAME: str = _ORGS["operator"]
SUBSTATION: tuple[str, str] = (_ORGS["substation"]["name"], _ORGS["substation"]["region"])
# (kind, name) of every financial institution, in the file's order (product codes follow it)
INSTITUTIONS: list[tuple[str, str]] = [
    (OrgKind(kind), name) for kind, names in _ORGS["institutions"].items() for name in names
]
# (name, region code) of government departments; "" = the whole province
GOVERNMENT: list[tuple[str, str]] = [(name, region) for name, region in _ORGS["government"]]
# Industry authorities (行业主管部门) and the GB/T 4754 sections they oversee (credit cultivation).
INDUSTRY_SECTIONS: dict[str, list[str]] = dict(_ORGS["industry_sections"])


@dataclass(frozen=True)
class DemoLogin:
    """One demo account to print: its role label, username and organisation."""

    role: str
    username: str
    organisation: str
    roles: tuple[str, ...]
    kind: str


DEMO_USERS: list[DemoLogin] = [
    DemoLogin(
        role=u["role"],
        username=u["username"],
        organisation=u["organisation"],
        roles=tuple(Role(r) for r in u["roles"]),
        kind=OrgKind(u["kind"]),
    )
    for u in load_data("users")["users"]
]


def demo_logins() -> list[tuple[str, str]]:
    """Return (role label, username) of the demo accounts that exist in the database."""
    existing = set(
        User.objects.filter(username__in=[d.username for d in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    logins = [(d.role, d.username) for d in DEMO_USERS if d.username in existing]
    # the 甘霖 programme's field officers are made by its own seeder (with their community)
    field = {BANK_LOGIN: "网格员（青海银行）", COMMUNITY_LOGIN: "网格员（社区）"}
    found = User.objects.filter(username__in=list(field)).values_list("username", flat=True)
    return logins + [(field[name], name) for name in sorted(found)]


def seed_second_factor() -> int:
    """Pre-enrol the demo logins that must use two-factor login; return how many were enrolled.

    Their devices are named as demo devices: where demo logins are shown
    (``XINRONG_DEMO_LOGINS``), the second step shows their current code, labelled 演示环境.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from xinrong.accounts import permissions
    from xinrong.accounts.services.twofactor import totp_device_demo_enrol

    usernames = [username for _role, username in demo_logins()]
    enrolled = set(
        TOTPDevice.objects.filter(user__username__in=usernames, confirmed=True).values_list(
            "user__username", flat=True
        )
    )
    made = 0
    for user in User.objects.filter(username__in=usernames).select_related("organisation"):
        if user.username not in enrolled and permissions.needs_second_factor(user):
            totp_device_demo_enrol(user=user)
            made += 1
    return made


def seed_organisations(report: SeedReport) -> dict[str, Organisation]:
    """Create the operator, substation, institutions and departments; return them by name."""
    orgs: dict[str, Organisation] = {
        o.name: o
        for o in Organisation.objects.exclude(
            kind__in=[OrgKind.ENTERPRISE, OrgKind.INDIVIDUAL_BUSINESS]
        )
    }
    wanted: list[tuple[str, str, str]] = [
        (OrgKind.OPERATOR, OPERATOR_NAME, ""),
        (OrgKind.SUBSTATION, SUBSTATION[0], SUBSTATION[1]),
        *[(kind, name, "") for kind, name in INSTITUTIONS],
        *[(OrgKind.GOVERNMENT, name, region) for name, region in GOVERNMENT],
    ]
    for kind, name, region in wanted:
        if name in orgs and orgs[name].kind == kind:
            continue
        orgs[name] = organisation_create(name=name, kind=kind, region_code=region)
        report.organisations += 1
    for name, sections in INDUSTRY_SECTIONS.items():
        org = orgs.get(name)
        if org is not None and org.industry_sections != sections:
            org.industry_sections = sections
            org.save(update_fields=["industry_sections", "updated_at"])
    return orgs


def seed_users(orgs: dict[str, Organisation], report: SeedReport) -> None:
    """Create the demo logins that do not exist yet (all with ``DEMO_PASSWORD``)."""
    password_hash = make_password(DEMO_PASSWORD)
    existing = set(
        User.objects.filter(username__in=[d.username for d in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    # Enterprise demo users own the first registered enterprise / individual business.
    ent = (
        MarketEntity.objects.filter(entity_type=EntityType.ENTERPRISE, organisation__isnull=False)
        .order_by("id")
        .first()
    )
    ib = (
        MarketEntity.objects.filter(
            entity_type=EntityType.INDIVIDUAL_BUSINESS, organisation__isnull=False
        )
        .order_by("id")
        .first()
    )
    for d in DEMO_USERS:
        if d.username in existing:
            continue
        if d.kind == OrgKind.ENTERPRISE:
            org = ent.organisation if ent else None
        elif d.kind == OrgKind.INDIVIDUAL_BUSINESS:
            org = ib.organisation if ib else None
        else:
            org = orgs[d.organisation]
        if org is None:
            continue
        user_create(
            username=d.username,
            password_hash=password_hash,
            organisation=org,
            roles=list(d.roles),
            display_name=d.role,
            is_staff=d.username == "operator",
            is_superuser=d.username == "operator",
        )
        report.users += 1
