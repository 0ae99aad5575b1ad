"""Demo of the 甘霖 grid programme: two field officers, weeks of door-to-door visits with the gaps
and reasons a real programme has, files built through the services, and loans under the programme.

- ``grid_bank``: a 网格员 of 青海银行 (the demo bank of ``loan_officer``), visiting merchants across
  西宁; among them some registered individual businesses whose platform loans came after the visit
  (the programme's loans).
- ``grid_community``: a community worker of 城东区东关大街街道办事处 (a government organisation of
  西宁 城东区), visiting the communities of 城东区.

Visits go through ``grid_visit_record`` and files through ``merchant_file_build``; only their times
are then moved back to the visit days (the services stamp "now"). Idempotent: does nothing when
``grid_bank`` has visits.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.insight.models import GridVisit, MerchantFile, RefusalReason, VisitResult
from xinrong.insight.services.grid import VisitIn, grid_visit_record, merchant_file_build
from xinrong.marketplace.models import Loan
from xinrong.reference import divisions

BANK_LOGIN, COMMUNITY_LOGIN = "grid_bank", "grid_community"
COMMUNITY_ORG = "西宁市城东区东关大街街道办事处"
COMMUNITY_REGION = "630102"  # 西宁市 城东区
XINING = "6301"
WEEKS = 8
PROGRAMME_MERCHANTS = 12  # registered merchants visited before their platform loan

SURNAMES = "马韩李张王赵刘陈杨冶祁鲁喇才"
SHOPS = (
    "杂货店",
    "面馆",
    "牛羊肉店",
    "手抓羊肉馆",
    "五金店",
    "百货商店",
    "理发店",
    "蔬菜店",
    "烟酒店",
    "干果店",
    "服装店",
    "酿皮店",
    "早餐店",
    "修车铺",
    "药店",
)
STREETS = ("东关大街", "清真巷", "大众街", "周家泉", "火车站街", "八一路", "林家崖", "韵家口")
OTHER_NOTES = ("店面已转让", "正在装修暂停营业", "只做批发，不需要贷款", "已在其他银行建档")


def _villages(prefix: str) -> list[str]:
    """Every community/village code under a county."""
    return [
        v.code
        for t in divisions.children(prefix)
        for v in divisions.children(t.code)
        if v.level == 5
    ]


def _officers(password: str) -> tuple[User, User] | None:
    bank_user = User.objects.filter(username="loan_officer").select_related("organisation").first()
    if bank_user is None or bank_user.organisation is None:
        return None
    community = Organisation.objects.filter(name=COMMUNITY_ORG).first() or organisation_create(
        name=COMMUNITY_ORG, kind=OrgKind.GOVERNMENT, region_code=COMMUNITY_REGION
    )
    password_hash = make_password(password)
    made = []
    for username, org, name in (
        (BANK_LOGIN, bank_user.organisation, "李国强"),
        (COMMUNITY_LOGIN, community, "韩晓梅"),
    ):
        user = User.objects.filter(username=username).first() or user_create(
            username=username,
            password_hash=password_hash,
            organisation=org,
            roles=[Role.FIELD_OFFICER],
            display_name=name,
        )
        made.append(user)
    return made[0], made[1]


def _back_date(visit: GridVisit, rng: random.Random, *, file: MerchantFile | None) -> None:
    """Move the consent and file times from "now" to the visit day (and a few days after)."""
    tz = timezone.get_current_timezone()
    at = dt.datetime.combine(visit.visited_on, dt.time(9 + rng.randrange(9), rng.randrange(60)))
    at = timezone.make_aware(at, tz)
    if visit.consent:
        GridVisit.objects.filter(pk=visit.pk).update(consent_at=at)
    if file is not None:
        built = min(at + dt.timedelta(days=rng.choice((0, 0, 1, 2, 5))), timezone.now())
        MerchantFile.objects.filter(pk=file.pk).update(built_at=built)


# the bank officer's beat: Xining's 城东, 城西 and 城北 districts
BANK_COUNTIES = ("630102", "630104", "630105")


def _merchants(counties: tuple[str, ...]) -> list[MarketEntity]:
    """Registered individual businesses of ``counties`` without a credit file yet."""
    area = Q()
    for county in counties:
        area |= Q(division_code__startswith=county)
    return list(
        MarketEntity.objects.filter(
            area, entity_type=EntityType.INDIVIDUAL_BUSINESS, grid_files__isnull=True
        ).order_by("-pk")
    )


def _random_visit(
    officer: User,
    day: dt.date,
    villages: list[str],
    merchants: list[MarketEntity],
    rng: random.Random,
) -> tuple[VisitIn, str]:
    """A visit as it goes on the street; the merchant's USCC when the officer then builds the
    file ("" when not). Willing merchants are registered individual businesses of the area
    (``merchants``, used up as they are filed), so a file links the registry's entry and its
    operator; the officer knows the USCC half the time and looks it up when filing."""
    name = f"{rng.choice(SURNAMES)}记{rng.choice(SHOPS)}"
    village = rng.choice(villages)
    address = f"{rng.choice(STREETS)}{rng.randint(1, 180)}号"
    roll = rng.random()
    if roll < 0.55 and merchants:
        merchant = merchants.pop()
        consent = rng.random() < 0.8
        build = consent and rng.random() < 0.7  # the lag the programme reports
        return (
            VisitIn(
                visited_on=day,
                merchant_name=merchant.name,
                uscc=merchant.uscc if rng.random() < 0.5 else "",
                division_code=village,
                address=merchant.address or address,
                result=VisitResult.INTENT,
                consent=consent,
            ),
            merchant.uscc if build else "",
        )
    if roll < 0.8:
        reason = rng.choices(
            (RefusalReason.UNWILLING, RefusalReason.WRONG_DETAILS, RefusalReason.OTHER),
            weights=(5, 3, 2),
        )[0]
        return (
            VisitIn(
                visited_on=day,
                merchant_name=name,
                division_code=village,
                address=address,
                result=VisitResult.REFUSED,
                refusal_reason=reason,
                refusal_note=rng.choice(OTHER_NOTES) if reason == RefusalReason.OTHER else "",
            ),
            "",
        )
    reason = RefusalReason.OWNER_ABSENT if rng.random() < 0.85 else RefusalReason.WRONG_DETAILS
    return (
        VisitIn(
            visited_on=day,
            merchant_name=name,
            division_code=village,
            address=address,
            result=VisitResult.NOT_MET,
            refusal_reason=reason,
        ),
        "",
    )


def _programme_visits(officer: User, rng: random.Random, today: dt.date) -> int:
    """Visits to registered Xining merchants days before their platform loan, files built."""
    loans = list(
        Loan.objects.filter(
            entity__division_code__startswith=XINING,
            entity__entity_type=EntityType.INDIVIDUAL_BUSINESS,
            disbursed_on__gte=today - dt.timedelta(days=7 * WEEKS - 3),
        )
        .exclude(entity__grid_files__isnull=False)
        .select_related("entity")
        .order_by("disbursed_on", "id")
    )
    seen: set[int] = set()
    made = 0
    for loan in loans:
        if made >= PROGRAMME_MERCHANTS or loan.entity_id in seen:
            continue
        seen.add(loan.entity_id)
        entity = loan.entity
        code = entity.division_code
        village = code if len(code) == 12 else (_villages(code[:6]) or [""])[0]
        if not village:
            continue
        day = loan.disbursed_on - dt.timedelta(days=rng.randint(3, 20))
        visit = grid_visit_record(
            officer=officer,
            visit_in=VisitIn(
                visited_on=min(day, today),
                merchant_name=entity.name,
                uscc=entity.uscc,
                division_code=village,
                address=entity.address,
                result=VisitResult.INTENT,
                consent=True,
            ),
        )
        file = merchant_file_build(officer=officer, visit=visit)
        _back_date(visit, rng, file=file)
        made += 1
    return made


@transaction.atomic
def seed_grid(seed_value: int, *, password: str) -> dict[str, Any]:
    """Seed the grid programme's demo (officers with the demo ``password``, visits, files);
    return the counts made."""
    officers = _officers(password)
    if officers is None:
        return {}
    bank, community = officers
    if GridVisit.objects.filter(officer=bank).exists():
        return {}
    rng = random.Random(f"grid:{seed_value}")  # noqa: S311  (demo data, not secrets)
    today = timezone.localdate()
    report = {"visits": 0, "files": 0}
    report["programme_files"] = _programme_visits(bank, rng, today)
    areas = {
        bank.pk: [v for county in BANK_COUNTIES for v in _villages(county)],
        community.pk: _villages(COMMUNITY_REGION),
    }
    # willing merchants: registered individual businesses; the community has its district's,
    # the bank the other two districts' (so no merchant is filed twice)
    merchants = {
        bank.pk: _merchants(BANK_COUNTIES[1:]),
        community.pk: _merchants((COMMUNITY_REGION,)),
    }
    for week in range(WEEKS, -1, -1):
        monday = today - dt.timedelta(days=today.weekday() + 7 * week)
        for officer, per_week in ((bank, rng.randint(6, 11)), (community, rng.randint(8, 14))):
            for _n in range(per_week):
                day = monday + dt.timedelta(days=rng.randrange(6))
                if day > today:
                    continue
                visit_in, build = _random_visit(
                    officer, day, areas[officer.pk], merchants[officer.pk], rng
                )
                visit = grid_visit_record(officer=officer, visit_in=visit_in)
                file = None
                if build:
                    file = merchant_file_build(officer=officer, visit=visit, uscc=build)
                    report["files"] += 1
                _back_date(visit, rng, file=file)
                report["visits"] += 1
    return report
