"""How unified sign-on finds an enterprise's or a person's login in the registry.

Registered with ``xinrong.accounts.sso.linking`` at start-up (accounts sits below the registry).
An enterprise signs on with its USCC: its owner login, or — for an entity in the registry with no
owner login yet — an owner login opened the way self-registration opens it (the provincial
platform has verified the legal person, as the registration form verifies the representative).
A person signs on with an ID number: the owner login of the entity they represent.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from xinrong.accounts.choices import Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.users import _one_time_password, user_create
from xinrong.accounts.sso.linking import SsoMatch, sso_resolver_register
from xinrong.enterprises.models import MarketEntity, Person
from xinrong.enterprises.services import entity_organisation_open, person_id_index
from xinrong.reference import idcard
from xinrong.reference import uscc as uscc_codec
from xinrong.reference.errors import ReferenceDataError


def _owners(org: Organisation) -> list[User]:
    return list(
        User.objects.filter(organisation=org, roles__role=Role.ENTERPRISE_OWNER)
        .select_related("organisation")
        .distinct()
        .order_by("-is_active", "id")
    )


def _free_username(base: str) -> str:
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def uscc_match(raw: str) -> SsoMatch:
    """Match the USCC an enterprise signed on with."""
    try:
        code = uscc_codec.parse(raw).code
    except (ReferenceDataError, ValueError):
        return SsoMatch(
            refusal=_(
                "认证平台提供的统一社会信用代码“%(c)s”不是有效的代码，平台无法确认贵单位身份。"
                "请联系认证平台核实单位信息，或使用平台账号密码登录。"
            )
            % {"c": raw[:40]}
        )
    entity = MarketEntity.objects.filter(uscc=code).select_related("organisation").first()
    org = entity.organisation if entity is not None else None
    org = org or Organisation.objects.filter(uscc=code).first()
    if entity is None and org is None:
        return SsoMatch(
            refusal=_(
                "平台的市场主体库中没有统一社会信用代码为 %(c)s 的企业或个体工商户，因此未能登录，"
                "平台也没有为您自动开立账号。请先在平台“注册账户”，或联系平台运营方核实"
                "主体登记信息后再使用统一身份认证登录。"
            )
            % {"c": code}
        )
    if org is not None:
        owners = _owners(org)
        if owners:
            return SsoMatch(users=owners[:1])  # an active owner first, if any
    target_entity, target_org = entity, org

    def create() -> User:
        with transaction.atomic():
            the_org = target_org
            if the_org is None:
                assert target_entity is not None
                the_org = entity_organisation_open(entity=target_entity)
            rep = target_entity.legal_representative if target_entity else None
            user = user_create(
                username=_free_username(code),
                password=_one_time_password(),
                organisation=the_org,
                roles=[Role.ENTERPRISE_OWNER],
                display_name=rep.name if rep is not None else "",
            )
            user.set_unusable_password()  # signs on through the provider, never by password
            user.save(update_fields=["password"])
            return user

    return SsoMatch(create=create)


def id_number_match(raw: str) -> SsoMatch:
    """Match the ID number a person signed on with: the entity they represent."""
    refusal = _(
        "平台没有找到与您身份证号码对应、已开通平台账户的企业或个体工商户，因此未能登录，"
        "平台也没有为您自动开立账号。法定代表人或经营者请以单位身份（统一社会信用代码）登录，"
        "或先在平台“注册账户”；已有账号的请使用账号密码登录。"
    )
    try:
        number = idcard.validate(raw)
    except (ReferenceDataError, ValueError):
        return SsoMatch(refusal=refusal)
    person = Person.objects.filter(id_number_index=person_id_index(number)).first()
    if person is None or person.id_number != number:
        return SsoMatch(refusal=refusal)
    orgs = MarketEntity.objects.filter(
        legal_representative=person, organisation__isnull=False
    ).values_list("organisation_id", flat=True)
    owners: list[User] = []
    for org in Organisation.objects.filter(pk__in=list(orgs)):
        found = _owners(org)
        owners.extend(found[:1])
    if not owners:
        return SsoMatch(refusal=refusal)
    return SsoMatch(users=owners)


def register() -> None:
    """Register the registry's resolvers with unified sign-on."""
    sso_resolver_register("uscc", uscc_match)
    sso_resolver_register("id_number", id_number_match)
