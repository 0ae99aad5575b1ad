"""Writes for the enterprise registry: entities, people, relationships, self-registration."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import enterprise_login_issue, user_create
from xinrong.common.crypto import blind_index
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.common.masking import mask_name
from xinrong.enterprises.choices import EntityType, RelationKind
from xinrong.enterprises.models import MarketEntity, Person, Relationship
from xinrong.enterprises.names import address_key, name_key
from xinrong.notifications.services import notification_send
from xinrong.reference import divisions, idcard, industries, size
from xinrong.reference import uscc as uscc_codec
from xinrong.reference.errors import ReferenceDataError

ID_INDEX_PURPOSE = "person-id-number"
PHONE_INDEX_PURPOSE = "person-phone"
_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_MAINLAND_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")

# USCC positions 1–2 that identify an individual business (市场监管 + 个体工商户).
INDIVIDUAL_BUSINESS_PREFIX = "92"


def entity_type_from_uscc(code: str) -> str:
    """Return the entity type implied by a USCC's registration authority and type."""
    return (
        EntityType.INDIVIDUAL_BUSINESS
        if code.startswith(INDIVIDUAL_BUSINESS_PREFIX)
        else EntityType.ENTERPRISE
    )


def person_id_index(id_number: str) -> str:
    """Return the blind index used to find a person by ID number without decrypting."""
    return blind_index(id_number, purpose=ID_INDEX_PURPOSE)


def person_phone_index(phone: str) -> str:
    """Return the blind index that finds people sharing a phone number ("" for no number).

    Separators and a mainland "+86"/"86" prefix are ignored, so "+86 138-1234-5678" and
    "13812345678" share one index.
    """
    compact = _PHONE_JUNK.sub("", phone or "")
    if not compact:
        return ""
    match = _MAINLAND_MOBILE.match(compact)
    return blind_index(match.group(1) if match else compact, purpose=PHONE_INDEX_PURPOSE)


def id_number_name_conflict(*, held_by: str, given: str, field: str = "id_number") -> ConflictError:
    """Return the error of an ID number already registered under another name (names masked).

    One ID number is one person: linking it silently to a second name would make the second
    entity's legal representative the first person, and refuse the real one at registration.
    """
    return ConflictError(
        "id_number_name_conflict",
        _(
            "身份证号码与姓名冲突：该身份证号码已登记在“%(held)s”名下，与所填姓名“%(given)s”"
            "不一致；同一身份证号码只能对应一人，请核实姓名与号码，或联系平台运营方核查登记信息"
        )
        % {"held": mask_name(held_by), "given": mask_name(given)},
        {"field": field},
    )


def person_get_or_create(
    *, name: str, id_number: str = "", phone: str = "", field: str = "id_number"
) -> Person:
    """Return the person with this ID number, creating them if new.

    An ID number already held by a person of another name is refused
    (``id_number_name_conflict``, both names masked, naming ``field``), never linked to that
    person.
    """
    name = name.strip()
    if not name:
        raise ApplicationError("invalid_person_name", _("姓名不能为空"), {"field": "name"})
    phone = phone.strip()
    if id_number:
        id_number = idcard.validate(id_number)
        index = person_id_index(id_number)
        person = Person.objects.filter(id_number_index=index).first()
        if person is not None:
            if person.name.strip() != name:
                raise id_number_name_conflict(held_by=person.name, given=name, field=field)
            return person
        return Person.objects.create(
            name=name,
            id_number=id_number,
            id_number_index=index,
            phone=phone,
            phone_index=person_phone_index(phone),
        )
    return Person.objects.create(name=name, phone=phone, phone_index=person_phone_index(phone))


def _check_codes(*, industry_code: str, division_code: str) -> tuple[str, str]:
    industry = industries.get(industry_code) if industry_code else None
    if industry is None:
        raise ApplicationError(
            "invalid_industry_code",
            _("行业代码“%(code)s”不在《国民经济行业分类》(GB/T 4754-2017) 中")
            % {"code": industry_code},
            {"field": "industry_code"},
            status=422,
        )
    if divisions.get(division_code) is None:
        raise ApplicationError(
            "invalid_division_code",
            _("行政区划代码“%(code)s”不存在") % {"code": division_code},
            {"field": "division_code"},
            status=422,
        )
    return industries.normalize(industry_code), divisions.normalize_code(division_code)


def compute_size_class(
    *,
    industry_code: str,
    employees: int | None,
    revenue: Decimal | None,
    assets: Decimal | None,
) -> str:
    """Return the size class by the 2011 standard, or "" when the indicators are incomplete."""
    try:
        return str(size.classify(industry_code, employees, revenue, assets))
    except ReferenceDataError:
        return ""


@transaction.atomic
def market_entity_create(
    *,
    uscc: str,
    name: str,
    industry_code: str,
    division_code: str,
    entity_type: str | None = None,
    legal_rep_name: str = "",
    legal_rep_id_number: str = "",
    registered_capital: Decimal | None = None,
    established_on: dt.date | None = None,
    address: str = "",
    employees: int | None = None,
    annual_revenue: Decimal | None = None,
    total_assets: Decimal | None = None,
) -> MarketEntity:
    """Register a market entity after validating its code, industry, region and people."""
    parsed = uscc_codec.parse(uscc)
    code = parsed.code
    implied = entity_type_from_uscc(code)
    if entity_type and entity_type != implied:
        raise ApplicationError(
            "entity_type_mismatch",
            _("统一社会信用代码 %(code)s 表示“%(implied)s”，与所填主体类型不符")
            % {"code": code, "implied": EntityType(implied).label},
            {"field": "entity_type"},
            status=422,
        )
    if not name.strip():
        raise ApplicationError("invalid_name", _("名称不能为空"), {"field": "name"}, status=422)
    industry_code, division_code = _check_codes(
        industry_code=industry_code, division_code=division_code
    )
    if MarketEntity.objects.filter(uscc=code).exists():
        raise ConflictError(
            "duplicate_uscc",
            _("统一社会信用代码 %(code)s 已登记") % {"code": code},
            {"field": "uscc"},
        )
    for field, value in (
        ("registered_capital", registered_capital),
        ("annual_revenue", annual_revenue),
        ("total_assets", total_assets),
    ):
        if value is not None and value < 0:
            raise ApplicationError(
                "negative_amount", _("金额不能为负数"), {"field": field}, status=422
            )
    person = (
        person_get_or_create(
            name=legal_rep_name, id_number=legal_rep_id_number, field="legal_rep_id_number"
        )
        if legal_rep_name
        else None
    )
    entity = MarketEntity(
        uscc=code,
        name=name.strip(),
        name_key=name_key(name),
        entity_type=implied,
        legal_representative=person,
        registered_capital=registered_capital,
        established_on=established_on,
        industry_code=industry_code,
        division_code=division_code,
        address=address.strip(),
        address_key=address_key(address),
        employees=employees,
        annual_revenue=annual_revenue,
        total_assets=total_assets,
        size_class=compute_size_class(
            industry_code=industry_code,
            employees=employees,
            revenue=annual_revenue,
            assets=total_assets,
        ),
    )
    entity.full_clean(exclude=["organisation", "legal_representative"])
    entity.save()
    if person is not None:
        Relationship.objects.create(
            entity=entity, kind=RelationKind.LEGAL_REPRESENTATIVE, person=person
        )
    return entity


def market_entity_size_refresh(*, entity: MarketEntity) -> MarketEntity:
    """Recompute an entity's size class from its latest employees, revenue and assets."""
    entity.size_class = compute_size_class(
        industry_code=entity.industry_code,
        employees=entity.employees,
        revenue=entity.annual_revenue,
        assets=entity.total_assets,
    )
    entity.save(update_fields=["size_class", "updated_at"])
    return entity


@transaction.atomic
def relationship_add(
    *,
    entity: MarketEntity,
    kind: str,
    person: Person | None = None,
    holder_entity: MarketEntity | None = None,
    share_ratio: Decimal | None = None,
    title: str = "",
    guaranteed_amount: Decimal | None = None,
) -> Relationship:
    """Record a shareholding, an office or a guarantee of ``entity``'s debts.

    Shareholdings of one entity may not exceed 100%; for a guarantee the person or
    ``holder_entity`` is the guarantor, and the guaranteed amount (yuan) is optional.
    """
    if kind not in RelationKind.values:
        raise ApplicationError(
            "relationship_kind",
            _("关系类型“%(kind)s”不正确，应为：%(allowed)s")
            % {"kind": kind, "allowed": "、".join(str(k.label) for k in RelationKind)},
            {"field": "kind"},
            status=422,
        )
    if (person is None) == (holder_entity is None):
        raise ApplicationError(
            "relationship_party", _("关联方必须是一个自然人或一个市场主体"), {"field": "person"}
        )
    if holder_entity is not None and holder_entity.pk == entity.pk:
        if kind == RelationKind.GUARANTOR:
            raise ApplicationError(
                "guarantee_self",
                _("市场主体不能为自身债务提供担保"),
                {"field": "holder_entity"},
                status=422,
            )
        raise ApplicationError(
            "relationship_self", _("市场主体不能与自身建立关联"), {"field": "holder_entity"}
        )
    if guaranteed_amount is not None:
        if kind != RelationKind.GUARANTOR:
            raise ApplicationError(
                "guaranteed_amount_kind",
                _("只有担保关系可以填写担保金额"),
                {"field": "guaranteed_amount"},
                status=422,
            )
        if not guaranteed_amount.is_finite() or guaranteed_amount < 0:
            raise ApplicationError(
                "guaranteed_amount_range",
                _("担保金额不能为负数（单位：元）"),
                {"field": "guaranteed_amount"},
                status=422,
            )
    if kind == RelationKind.SHAREHOLDER:
        if share_ratio is None or not (Decimal(0) < share_ratio <= Decimal(100)):
            raise ApplicationError(
                "share_ratio_range",
                _("持股比例必须大于0且不超过100"),
                {"field": "share_ratio"},
                status=422,
            )
        held = sum(
            (r.share_ratio or Decimal(0))
            for r in MarketEntity.objects.select_for_update()
            .get(pk=entity.pk)
            .relationships.filter(kind=RelationKind.SHAREHOLDER)
        )
        if held + share_ratio > Decimal(100):
            raise ApplicationError(
                "share_ratio_total",
                _("持股比例合计将超过100%%（已登记 %(held)s%%）") % {"held": held},
                {"field": "share_ratio"},
                status=422,
            )
    rel = Relationship(
        entity=entity,
        kind=kind,
        person=person,
        holder_entity=holder_entity,
        share_ratio=share_ratio,
        title=title,
        guaranteed_amount=guaranteed_amount,
    )
    rel.full_clean()
    rel.save()
    return rel


def entity_organisation_open(*, entity: MarketEntity) -> Organisation:
    """Create the platform organisation of a registry entity that has none, and link it."""
    if entity.organisation_id is not None:
        raise ConflictError("already_registered", _("该主体已开通平台账户"), {"field": "uscc"})
    kind = (
        OrgKind.INDIVIDUAL_BUSINESS
        if entity.entity_type == EntityType.INDIVIDUAL_BUSINESS
        else OrgKind.ENTERPRISE
    )
    org = organisation_create(
        name=entity.name, kind=kind, uscc=entity.uscc, region_code=entity.division_code
    )
    entity.organisation = org
    entity.save(update_fields=["organisation", "updated_at"])
    return org


@transaction.atomic
def entity_login_issue(
    *,
    entity: MarketEntity,
    actor: User,
    username: str,
    display_name: str,
    phone: str,
    contact: str,
    reason: str,
    source_ip: str = "",
    user_agent: str = "",
) -> tuple[User, str]:
    """Open the owner login of a registry entity by the operator's recorded procedure.

    An entity that has no platform organisation yet gets one; if the procedure then refuses
    (reason, contact, an existing owner…), the organisation is not kept either. The enterprise
    is told: every login it has, the new one included, gets a notice naming the operator, the
    reason and the contact.
    """
    permissions.require(
        actor, "accounts.enterprise_login_issue", message=_("只有全省运营管理员可以代开企业账号")
    )
    entity = MarketEntity.objects.select_for_update().get(pk=entity.pk)
    org = entity.organisation or entity_organisation_open(entity=entity)
    user, password = enterprise_login_issue(
        organisation=org,
        username=username,
        display_name=display_name,
        phone=phone,
        contact=contact,
        reason=reason,
        actor=actor,
        source_ip=source_ip,
        user_agent=user_agent,
    )
    actor_org = actor.organisation.name if actor.organisation else _("平台运营方")
    notification_send(
        recipients=list(User.objects.filter(organisation=org, is_active=True)),
        kind="enterprise_login_issued",
        title=_("平台运营方为贵企业代开了企业主账号 %(u)s") % {"u": user.username},
        body=_(
            "%(org)s 的 %(actor)s 于 %(when)s 为贵企业开立了企业主账号“%(u)s”。\n"
            "理由：%(reason)s\n申请联系人：%(contact)s\n"
            "如非贵企业申请，请立即联系平台运营方；账号的每次登录与操作均有记录。"
        )
        % {
            "org": actor_org,
            "actor": actor.display_name or actor.username,
            "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "u": user.username,
            "reason": reason.strip(),
            "contact": contact.strip(),
        },
        link=reverse("accounts:security_log"),
        organisation_id=org.pk,
    )
    return user, password


@transaction.atomic
def enterprise_register(
    *,
    uscc: str,
    name: str,
    legal_rep_name: str,
    legal_rep_id_number: str,
    username: str,
    password: str,
    phone: str = "",
    industry_code: str = "",
    division_code: str = "",
) -> User:
    """Self-register an enterprise: its organisation, its owner account and its registry entry.

    An entity already in the registry can be claimed only by its recorded legal representative.
    """
    parsed = uscc_codec.parse(uscc)
    code = parsed.code
    legal_rep_id_number = idcard.validate(legal_rep_id_number, field="legal_rep_id_number")
    entity = MarketEntity.objects.select_for_update().filter(uscc=code).first()
    if entity is not None:
        if entity.organisation_id is not None:
            raise ConflictError(
                "already_registered",
                _("该主体已开通平台账户，请由企业管理员为您添加经办人账号"),
                {"field": "uscc"},
            )
        rep = entity.legal_representative
        index = person_id_index(legal_rep_id_number)
        holder = Person.objects.filter(id_number_index=index).first()
        if holder is not None and holder.name.strip() != legal_rep_name.strip():
            # the number is registered under another name (the registry linked it, or another
            # entity's representative holds it): say so, not a bare "mismatch"
            raise id_number_name_conflict(
                held_by=holder.name, given=legal_rep_name, field="legal_rep_id_number"
            )
        if rep is None or rep.id_number_index != index or (rep.name != legal_rep_name.strip()):
            raise ApplicationError(
                "legal_rep_mismatch",
                _("法定代表人姓名或身份证号码与登记信息不一致"),
                {"field": "legal_rep_id_number"},
                status=422,
            )
    else:
        entity = market_entity_create(
            uscc=code,
            name=name,
            industry_code=industry_code,
            division_code=division_code,
            legal_rep_name=legal_rep_name,
            legal_rep_id_number=legal_rep_id_number,
        )
    org = entity_organisation_open(entity=entity)
    return user_create(
        username=username,
        password=password,
        organisation=org,
        roles=[Role.ENTERPRISE_OWNER],
        display_name=legal_rep_name.strip(),
        phone=phone,
    )
