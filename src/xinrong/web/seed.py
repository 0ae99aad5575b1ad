"""Deterministic demo data: organisations, users for every role, and the market-entity registry.

``seed(scale, seed)`` creates the same rows for the same arguments and adds nothing on a second
run. Entities are generated column by column and written with ``bulk_create`` in batches, so the
province scale (520,000 entities) takes minutes, not hours. Later modules add their own data here.

Guarantees between enterprises (one per 40 enterprises, a few thousand at province scale, some
closed into guarantee circles, the demo owner's company in one) are drawn from the seed value
after the registry, with a few legal representatives sharing a contact phone.

Distribution: prefectures are weighted by Qinghai's 7th-census resident population (2020);
74% of entities are individual businesses, as in the source article.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.common.crypto import encrypt_text
from xinrong.credit.models import ScoreModel
from xinrong.credit.services import scoring as scoring_services
from xinrong.datahub import demo as datahub_demo
from xinrong.enterprises.choices import EntityType, RelationKind
from xinrong.enterprises.models import MarketEntity, Person, Relationship, Tag
from xinrong.enterprises.names import name_key
from xinrong.enterprises.services import compute_size_class, person_id_index, person_phone_index
from xinrong.marketplace import demo as marketplace_demo
from xinrong.marketplace.choices import EventKind, ProductStatus, VersionStatus
from xinrong.marketplace.models import Product, ProductEvent, ProductVersion
from xinrong.marketplace.services.products import region_index, tag_index, terms_clean
from xinrong.reference import divisions, idcard
from xinrong.reference import uscc as uscc_codec

DEMO_PASSWORD = "Xinrong2026"  # noqa: S105 — printed for the demo; production has no seed users
SCALES = {"demo": 2_000, "city": 60_000, "province": 520_000}
INDIVIDUAL_SHARE = 0.74
REGISTERED_SHARE = 34_000 / 520_000  # enterprises with a platform account (article, Aug 2022)
# Guarantees between enterprises: about one for every 40 enterprises (a few thousand for the
# province), some of them closed into guarantee circles (互保、联保), mostly within a prefecture.
ENTERPRISES_PER_GUARANTEE = 40
GUARANTEES_PER_CIRCLE = 60
CIRCLE_SIZES = (3, 2, 3, 2, 4)
GUARANTEE_AMOUNTS_10K = (50, 100, 200, 300, 500, 800, 1000, 1500, 2000)  # 万元
LOCAL_GUARANTEE_SHARE = 0.8
PERSONAL_GUARANTEE_SHARE = 0.3  # the legal representative also guarantees personally
BATCH = 5_000  # rows per INSERT
CHUNK = 20_000  # entities generated, written and committed together

# Resident population, 7th national census (2020), in 10k: the weight of each prefecture.
PREFECTURE_WEIGHTS = {
    "630100": 246.8,  # 西宁市
    "630200": 135.8,  # 海东市
    "632200": 26.5,  # 海北州
    "632300": 27.6,  # 黄南州
    "632500": 44.7,  # 海南州
    "632600": 21.6,  # 果洛州
    "632700": 42.5,  # 玉树州
    "632800": 46.8,  # 海西州
}
CITY_PREFECTURE = "630100"

# (industry code, weight, name stem, suffix) — individual businesses lean to retail and catering.
IB_INDUSTRIES: list[tuple[str, float, tuple[str, ...], str]] = [
    ("F52", 38, ("便利", "百货", "日杂", "烟酒", "副食", "服装", "五金"), "店"),
    ("H62", 18, ("拉面", "手抓", "牛肉面", "酿皮", "炕锅", "火锅"), "馆"),
    ("H61", 3, ("驿站", "民宿", "客栈"), "宾馆"),
    ("O80", 9, ("理发", "洗衣", "家政", "摄影"), "部"),
    ("O81", 5, ("汽修", "家电维修", "电脑维修"), "部"),
    ("G54", 6, ("货运", "客运"), "运输户"),
    ("A01", 6, ("枸杞", "青稞", "油菜", "蔬菜"), "种植户"),
    ("A03", 7, ("牦牛", "藏羊", "奶牛"), "养殖户"),
    ("F51", 4, ("虫草", "枸杞", "农资", "粮油"), "经销部"),
    ("C13", 2, ("清真食品", "豆腐", "粉条"), "加工坊"),
    ("R88", 2, ("唐卡", "刺绣", "藏毯"), "工作室"),
]
ENT_INDUSTRIES: list[tuple[str, float, tuple[str, ...], str]] = [
    ("F51", 16, ("商贸", "贸易", "物资"), "有限公司"),
    ("F52", 9, ("商业", "超市", "连锁"), "有限公司"),
    ("E47", 7, ("建筑", "建设工程"), "有限公司"),
    ("E48", 4, ("路桥", "水利工程"), "有限公司"),
    ("C13", 4, ("牦牛乳业", "清真食品", "肉食品"), "有限公司"),
    ("C14", 2, ("枸杞科技", "青稞酒业", "饮品"), "有限公司"),
    ("C30", 2, ("建材", "新型材料"), "有限公司"),
    ("C38", 2, ("光伏科技", "电气"), "有限公司"),
    ("D44", 2, ("新能源", "电力"), "有限公司"),
    ("I65", 5, ("信息技术", "软件", "数字科技"), "有限公司"),
    ("L72", 7, ("企业管理", "商务咨询", "文化传媒"), "有限公司"),
    ("L71", 3, ("设备租赁", "汽车租赁"), "有限公司"),
    ("M75", 3, ("生物科技", "农业科技"), "有限公司"),
    ("A01", 5, ("农业开发", "生态农业", "种植"), "专业合作社"),
    ("A03", 5, ("畜牧", "生态牧业"), "专业合作社"),
    ("H61", 3, ("酒店管理", "旅游"), "有限公司"),
    ("H62", 4, ("餐饮管理",), "有限公司"),
    ("G54", 3, ("物流", "运输"), "有限公司"),
    ("G59", 2, ("仓储",), "有限公司"),
    ("K7010", 2, ("房地产开发",), "有限公司"),
    ("K7020", 2, ("物业服务",), "有限公司"),
    ("O80", 2, ("家政服务",), "有限公司"),
    ("P83", 1, ("职业培训", "教育咨询"), "有限公司"),
    ("Q84", 1, ("医疗", "健康管理"), "有限公司"),
]
BRAND_CHARS = "鑫源盛达恒通泰丰瑞祥隆昌华宏兴旺金福安康和顺德润嘉雪域高原三江青湖昆仑祁连柴达木"
SURNAMES = "马王李张刘赵陈杨韩才祁冶索扎周孙朱胡郭何高罗郑梁谢宋唐许邓冯曹彭曾肖田董袁潘"
GIVEN_CHARS = "明华军建国平海燕红英文伟芳秀兰霞玉梅德才卓玛措吉多杰旦增拉毛尕让加措东措"
TAGS = [
    ("zjtx", "专精特新", 0.01),
    ("hightech", "高新技术企业", 0.02),
    ("techsme", "科技型中小企业", 0.04),
    ("agri-leader", "农业产业化龙头企业", 0.01),
    ("gov-procurement", "政府采购供应商", 0.03),
]

INSTITUTIONS: list[tuple[str, str]] = [
    *[
        (OrgKind.BANK, n)
        for n in (
            "中国工商银行青海省分行",
            "中国农业银行青海省分行",
            "中国银行青海省分行",
            "中国建设银行青海省分行",
            "交通银行青海省分行",
            "中国邮政储蓄银行青海省分行",
            "国家开发银行青海省分行",
            "中国农业发展银行青海省分行",
            "招商银行西宁分行",
            "中信银行西宁分行",
            "兴业银行西宁分行",
            "中国民生银行西宁分行",
            "上海浦东发展银行西宁分行",
            "中国光大银行西宁分行",
            "平安银行西宁分行",
            "华夏银行西宁分行",
            "青海银行",
            "西宁农村商业银行",
            "青海省农村信用社联合社",
            "大通农村商业银行",
            "海东农村商业银行",
            "格尔木农村商业银行",
        )
    ],
    *[
        (OrgKind.MICROLOAN, n)
        for n in (
            "西宁城投小额贷款有限公司",
            "海东普惠小额贷款有限公司",
            "柴达木小额贷款有限公司",
        )
    ],
    *[
        (OrgKind.INSURER, n)
        for n in (
            "中国人民财产保险青海省分公司",
            "中国平安财产保险青海分公司",
            "中华联合财产保险青海分公司",
            "太平洋财产保险青海分公司",
            "中国人寿财产保险青海省分公司",
            "国元农业保险青海分公司",
            "阳光财产保险青海省分公司",
            "大地财产保险青海分公司",
        )
    ],
    *[
        (OrgKind.GUARANTOR, n)
        for n in (
            "青海省信用融资担保集团有限公司",
            "西宁市融资担保有限公司",
            "海东市融资担保有限公司",
            "海西州融资担保有限公司",
            "青海中小企业融资担保有限公司",
            "格尔木市融资担保有限公司",
        )
    ],
    (OrgKind.INVESTOR, "青海股权交易中心"),
]
GOVERNMENT: list[tuple[str, str]] = [
    ("中国人民银行青海省分行", ""),
    ("青海省发展和改革委员会", ""),
    ("青海省市场监督管理局", ""),
    ("国家税务总局青海省税务局", ""),
    ("青海省人力资源和社会保障厅", ""),
    ("青海省工业和信息化厅", ""),
    ("青海省财政厅", ""),
    ("青海省地方金融管理局", ""),
    ("青海省高级人民法院", ""),
    ("青海省住房和城乡建设厅", ""),
    ("青海省能源局", ""),
    ("青海省自然资源厅", ""),
    ("西宁市发展和改革委员会", "630100"),
    ("海西州发展和改革委员会", "632800"),
]
# Industry authorities (行业主管部门) and the GB/T 4754 sections they oversee (credit cultivation).
INDUSTRY_SECTIONS: dict[str, list[str]] = {
    "青海省工业和信息化厅": ["B", "C", "D", "I"],
    "青海省住房和城乡建设厅": ["E", "K"],
    "青海省能源局": ["D"],
}
OPERATOR_NAME = "青海省小微企业信用融资服务中心"
SUBSTATION = ("格尔木子站", "632801")


@dataclass(frozen=True)
class DemoLogin:
    """One demo account to print: its role label, username and organisation."""

    role: str
    username: str
    organisation: str
    roles: tuple[str, ...]
    kind: str


DEMO_USERS: list[DemoLogin] = [
    DemoLogin("运营管理员", "operator", OPERATOR_NAME, (Role.OPERATOR_ADMIN,), OrgKind.OPERATOR),
    DemoLogin("审计员", "auditor", OPERATOR_NAME, (Role.AUDITOR,), OrgKind.OPERATOR),
    DemoLogin("子站运营", "golmud", SUBSTATION[0], (Role.OPERATOR_ADMIN,), OrgKind.SUBSTATION),
    DemoLogin("机构管理员", "bank_admin", "青海银行", (Role.INSTITUTION_ADMIN,), OrgKind.BANK),
    DemoLogin("客户经理", "loan_officer", "青海银行", (Role.LOAN_OFFICER,), OrgKind.BANK),
    DemoLogin("审批人员", "reviewer", "青海银行", (Role.REVIEWER,), OrgKind.BANK),
    DemoLogin(
        "数据报送员", "gov_data", "青海省市场监督管理局", (Role.DATA_PROVIDER,), OrgKind.GOVERNMENT
    ),
    DemoLogin(
        "政策发布员",
        "gov_policy",
        "青海省工业和信息化厅",
        (Role.POLICY_PUBLISHER,),
        OrgKind.GOVERNMENT,
    ),
    DemoLogin("资金审批人", "gov_fund", "青海省财政厅", (Role.FUND_APPROVER,), OrgKind.GOVERNMENT),
    DemoLogin("企业主", "ent_owner", "", (Role.ENTERPRISE_OWNER,), OrgKind.ENTERPRISE),
    DemoLogin("企业经办人", "ent_agent", "", (Role.ENTERPRISE_AGENT,), OrgKind.ENTERPRISE),
    DemoLogin("个体工商户", "ib_owner", "", (Role.ENTERPRISE_OWNER,), OrgKind.INDIVIDUAL_BUSINESS),
]


def demo_logins() -> list[tuple[str, str]]:
    """Return (role label, username) of the demo accounts that exist in the database."""
    existing = set(
        User.objects.filter(username__in=[d.username for d in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    return [(d.role, d.username) for d in DEMO_USERS if d.username in existing]


@dataclass
class SeedReport:
    """What a seed run created (zero everywhere on a repeated run)."""

    organisations: int = 0
    users: int = 0
    persons: int = 0
    entities: int = 0
    relationships: int = 0
    guarantees: int = 0
    shared_phones: int = 0
    facts: int = 0
    scored: int = 0
    products: int = 0
    applications: int = 0
    loans: int = 0
    demands: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _weighted(rng: random.Random, items: list[tuple[str, float, tuple[str, ...], str]]):
    weights = [w for _c, w, _s, _x in items]
    return rng.choices(items, weights=weights, k=1)[0]


@dataclass
class _Places:
    """Counties, townships and villages under each prefecture, for fast random picks."""

    counties: dict[str, list[str]]
    townships: dict[str, list[str]]
    villages: dict[str, list[str]]

    @classmethod
    def load(cls) -> _Places:
        counties: dict[str, list[str]] = {}
        townships: dict[str, list[str]] = {}
        villages: dict[str, list[str]] = {}
        for pref in PREFECTURE_WEIGHTS:
            counties[pref] = [d.code for d in divisions.children(pref)]
            for county in counties[pref]:
                townships[county] = [d.code for d in divisions.children(county)]
                for town in townships[county]:
                    villages[town] = [d.code for d in divisions.children(town)]
        return cls(counties, townships, villages)

    def pick(self, rng: random.Random, prefecture: str) -> tuple[str, str]:
        """Return (county code, most specific known code) for an entity."""
        county = rng.choice(self.counties[prefecture])
        towns = self.townships.get(county) or []
        r = rng.random()
        if not towns or r < 0.3:
            return county, county
        town = rng.choice(towns)
        vills = self.villages.get(town) or []
        if not vills or r < 0.55:
            return county, town
        return county, rng.choice(vills)


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(
        rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2)))
    )


def _short_place(code: str) -> str:
    d = divisions.get(code)
    if d is None:
        return ""
    name = d.name
    for suffix in (
        "藏族自治县",
        "回族土族自治县",
        "土族自治县",
        "回族自治县",
        "撒拉族自治县",
        "蒙古族自治县",
        "自治县",
        "县",
        "市",
        "区",
    ):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass
class _EntityRow:
    uscc: str
    name: str
    entity_type: str
    industry_code: str
    division_code: str
    address: str
    established_on: dt.date
    registered_capital: Decimal | None
    employees: int
    revenue: Decimal
    assets: Decimal
    rep_name: str
    rep_id: str
    shareholders: list[tuple[str, str, Decimal]]  # (name, id number, ratio)
    tags: list[str]
    registered: bool


def _generate_entities(
    rng: random.Random, n: int, prefectures: dict[str, float]
) -> Iterator[_EntityRow]:
    places = _Places.load()
    pref_codes = list(prefectures)
    pref_weights = [prefectures[p] for p in pref_codes]
    seen: set[str] = set()
    start = dt.date(1995, 1, 1).toordinal()
    end = dt.date(2025, 12, 31).toordinal()
    for _ in range(n):
        pref = rng.choices(pref_codes, weights=pref_weights, k=1)[0]
        county, division = places.pick(rng, pref)
        individual = rng.random() < INDIVIDUAL_SHARE
        industry, _w, stems, suffix = _weighted(
            rng, IB_INDUSTRIES if individual else ENT_INDUSTRIES
        )
        # USCC position 2 under market regulation: 1 企业, 2 个体工商户, 3 农民专业合作社
        kind_digit = "2" if individual else ("3" if suffix == "专业合作社" else "1")
        while True:
            code = uscc_codec.generate(
                rng, division_code=county, authority="9", entity_type=kind_digit
            )
            if code not in seen:
                seen.add(code)
                break
        rep_name = _person_name(rng)
        place = _short_place(county)
        stem = rng.choice(stems)
        if individual:
            name = (
                f"{place}{rep_name[0]}记{stem}{suffix}"
                if rng.random() < 0.6
                else (f"{place}{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)}{stem}{suffix}")
            )
            employees = rng.randint(1, 8)
            revenue = Decimal(rng.randint(300, 15000)) / 100
            assets = Decimal(rng.randint(100, 8000)) / 100
            capital = None
        else:
            brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
            name = (
                f"青海{brand}{stem}{suffix}"
                if rng.random() < 0.5
                else (f"{place}{brand}{stem}{suffix}")
            )
            employees = max(1, int(rng.lognormvariate(2.3, 1.1)))
            revenue = Decimal(int(rng.lognormvariate(5.5, 1.5) * 100)) / 100
            assets = Decimal(int(rng.lognormvariate(5.8, 1.5) * 100)) / 100
            capital = Decimal(rng.choice((10, 50, 100, 200, 300, 500, 1000, 2000, 5000))) * 10000
        birth = dt.date.fromordinal(
            rng.randint(dt.date(1958, 1, 1).toordinal(), dt.date(2002, 12, 31).toordinal())
        )
        rep_id = idcard.generate(rng, division_code=county, birth=birth)
        shareholders: list[tuple[str, str, Decimal]] = []
        if not individual:
            k = rng.choice((1, 1, 2, 2, 3))
            remaining = Decimal(100)
            for i in range(k):
                if i == 0:
                    sh_name, sh_id = rep_name, rep_id
                else:
                    sh_name = _person_name(rng)
                    sh_birth = dt.date.fromordinal(
                        rng.randint(
                            dt.date(1960, 1, 1).toordinal(), dt.date(2000, 12, 31).toordinal()
                        )
                    )
                    sh_id = idcard.generate(rng, division_code=county, birth=sh_birth)
                ratio = remaining if i == k - 1 else Decimal(rng.randint(20, 70))
                ratio = min(ratio, remaining)
                remaining -= ratio
                if ratio > 0:
                    shareholders.append((sh_name, sh_id, ratio))
        tags = [code for code, _n, p in TAGS if not individual and rng.random() < p]
        yield _EntityRow(
            uscc=code,
            name=name,
            entity_type=EntityType.INDIVIDUAL_BUSINESS if individual else EntityType.ENTERPRISE,
            industry_code=industry,
            division_code=division,
            address=f"{divisions.full_name(division)}{rng.randint(1, 300)}号",
            established_on=dt.date.fromordinal(rng.randint(start, end)),
            registered_capital=capital,
            employees=employees,
            revenue=revenue,
            assets=assets,
            rep_name=rep_name,
            rep_id=rep_id,
            shareholders=shareholders,
            tags=tags,
            registered=rng.random() < REGISTERED_SHARE,
        )


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _seed_organisations(report: SeedReport) -> dict[str, Organisation]:
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


def _seed_registry(
    rng: random.Random,
    n: int,
    prefectures: dict[str, float],
    report: SeedReport,
    progress: Callable[[str], None],
) -> None:
    """Generate and write the registry chunk by chunk: memory stays flat, each chunk commits."""
    done = 0
    generated = _generate_entities(rng, n, prefectures)
    while rows := list(itertools.islice(generated, CHUNK)):
        with transaction.atomic():
            _seed_registry_chunk(rows, report)
        done += len(rows)
        progress(f"{done:,}/{n:,} entities")


def _seed_registry_chunk(rows: list[_EntityRow], report: SeedReport) -> None:
    """Write one chunk of generated entities, skipping those already present."""
    existing: set[str] = set()
    all_codes = [r.uscc for r in rows]
    for chunk in _chunks(all_codes, 2000):
        existing.update(MarketEntity.objects.filter(uscc__in=chunk).values_list("uscc", flat=True))
    rows = [r for r in rows if r.uscc not in existing]
    if not rows:
        return
    # People: one row per distinct ID number, found again through the blind index.
    people: dict[str, tuple[str, str]] = {}
    for r in rows:
        people.setdefault(r.rep_id, (r.rep_name, person_id_index(r.rep_id)))
        for sh_name, sh_id, _ratio in r.shareholders:
            people.setdefault(sh_id, (sh_name, person_id_index(sh_id)))
    index_to_pk: dict[str | None, int] = {}
    idx_list = [ix for _n, ix in people.values()]
    for chunk in _chunks(idx_list, 2000):
        index_to_pk.update(
            Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", "pk")
        )
    new_people = [
        Person(name=name, id_number=encrypt_text(idn), id_number_index=ix)
        for idn, (name, ix) in people.items()
        if ix not in index_to_pk
    ]
    for chunk in _chunks(new_people, BATCH):
        Person.objects.bulk_create(chunk, batch_size=BATCH)
    report.persons += len(new_people)
    for chunk in _chunks(idx_list, 2000):
        index_to_pk.update(
            Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", "pk")
        )
    # Organisations for the entities that hold a platform account.
    reg_orgs = [
        Organisation(
            name=r.name,
            uscc=r.uscc,
            region_code=r.division_code,
            kind=OrgKind.INDIVIDUAL_BUSINESS
            if r.entity_type == EntityType.INDIVIDUAL_BUSINESS
            else OrgKind.ENTERPRISE,
        )
        for r in rows
        if r.registered
    ]
    for chunk in _chunks(reg_orgs, BATCH):
        Organisation.objects.bulk_create(chunk, batch_size=BATCH)
    org_pk: dict[str | None, int] = {}
    reg_codes = [o.uscc for o in reg_orgs if o.uscc]
    for chunk in _chunks(reg_codes, 2000):
        org_pk.update(Organisation.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    report.organisations += len(reg_orgs)
    entities = [
        MarketEntity(
            uscc=r.uscc,
            name=r.name,
            name_key=name_key(r.name),
            entity_type=r.entity_type,
            legal_representative_id=index_to_pk[people[r.rep_id][1]],
            registered_capital=r.registered_capital,
            established_on=r.established_on,
            industry_code=r.industry_code,
            division_code=r.division_code,
            address=r.address,
            employees=r.employees,
            annual_revenue=r.revenue,
            total_assets=r.assets,
            size_class=compute_size_class(
                industry_code=r.industry_code,
                employees=r.employees,
                revenue=r.revenue,
                assets=r.assets,
            ),
            organisation_id=org_pk.get(r.uscc),
        )
        for r in rows
    ]
    for chunk in _chunks(entities, BATCH):
        MarketEntity.objects.bulk_create(chunk, batch_size=BATCH)
    report.entities += len(entities)
    entity_pk: dict[str, int] = {}
    for chunk in _chunks([r.uscc for r in rows], 2000):
        entity_pk.update(MarketEntity.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    # A few corporate shareholdings between enterprises, for the relationship graph later;
    # the stake is taken from the largest personal holding so the total stays 100%.
    ent_rows = [r for r in rows if r.entity_type == EntityType.ENTERPRISE]
    corporate: dict[str, tuple[str, Decimal]] = {}
    for r in ent_rows[: len(ent_rows) // 20]:
        # drawn from the row's own code, so a re-run that skips rows stays deterministic
        link_rng = random.Random(r.uscc)
        holder = link_rng.choice(ent_rows)
        if holder.uscc != r.uscc:
            corporate[r.uscc] = (holder.uscc, Decimal(link_rng.randint(5, 30)))
    rels: list[Relationship] = []
    for r in rows:
        epk = entity_pk[r.uscc]
        rels.append(
            Relationship(
                entity_id=epk,
                kind=RelationKind.LEGAL_REPRESENTATIVE,
                person_id=index_to_pk[people[r.rep_id][1]],
            )
        )
        stakes = {sh_id: ratio for _name, sh_id, ratio in r.shareholders}
        if r.uscc in corporate:
            holder_uscc, corp_ratio = corporate[r.uscc]
            largest = max(stakes, key=lambda k: stakes[k])
            stakes[largest] -= corp_ratio
            rels.append(
                Relationship(
                    entity_id=epk,
                    kind=RelationKind.SHAREHOLDER,
                    holder_entity_id=entity_pk[holder_uscc],
                    share_ratio=corp_ratio,
                )
            )
        rels.extend(
            Relationship(
                entity_id=epk,
                kind=RelationKind.SHAREHOLDER,
                person_id=index_to_pk[people[sh_id][1]],
                share_ratio=ratio,
            )
            for sh_id, ratio in stakes.items()
        )
        if r.entity_type == EntityType.ENTERPRISE:
            # as in most small companies: the legal representative runs it, a partner supervises
            officers = [(r.rep_id, "执行董事兼总经理")]
            officers += [(sh_id, "监事") for _n, sh_id, _r in r.shareholders[1:2]]
            rels.extend(
                Relationship(
                    entity_id=epk,
                    kind=RelationKind.EXECUTIVE,
                    person_id=index_to_pk[people[pid][1]],
                    title=title,
                )
                for pid, title in officers
            )
    for chunk in _chunks(rels, BATCH):
        Relationship.objects.bulk_create(chunk, batch_size=BATCH)
    report.relationships += len(rels)
    tag_pk = dict(Tag.objects.values_list("code", "pk"))
    through = MarketEntity.tags.through
    links = [
        through(marketentity_id=entity_pk[r.uscc], tag_id=tag_pk[t]) for r in rows for t in r.tags
    ]
    for chunk in _chunks(links, BATCH):
        through.objects.bulk_create(chunk, batch_size=BATCH)


@dataclass(frozen=True)
class _Enterprise:
    pk: int
    uscc: str
    prefecture: str
    legal_rep: int | None
    registered: bool


def _demo_owner(enterprises: list[_Enterprise]) -> _Enterprise | None:
    """Return the enterprise the demo owner account will hold (as ``_seed_users`` picks it)."""
    registered = [e for e in enterprises if e.registered]
    return min(registered, key=lambda e: e.pk) if registered else None


def _guarantee_plan(
    rng: random.Random, enterprises: list[_Enterprise]
) -> list[tuple[_Enterprise, _Enterprise | None, int | None, Decimal]]:
    """Return (debtor, guarantor entity, guarantor person, amount) rows, circles first.

    The demo enterprise owner's company sits in a three-member circle so its graph shows one.
    """
    by_prefecture: dict[str, list[_Enterprise]] = {}
    for e in enterprises:
        by_prefecture.setdefault(e.prefecture, []).append(e)
    n = len(enterprises)
    # never more than a quarter of the possible pairs, so the draw below always ends
    n_guarantees = min(max(40, n // ENTERPRISES_PER_GUARANTEE), n * (n - 1) // 4)
    n_circles = max(len(CIRCLE_SIZES), n_guarantees // GUARANTEES_PER_CIRCLE)
    pairs: set[tuple[int, int]] = set()
    plan: list[tuple[_Enterprise, _Enterprise | None, int | None, Decimal]] = []

    def amount() -> Decimal:
        return Decimal(rng.choice(GUARANTEE_AMOUNTS_10K)) * 10000

    def add(guarantor: _Enterprise, debtor: _Enterprise) -> None:
        if guarantor.pk != debtor.pk and (guarantor.pk, debtor.pk) not in pairs:
            pairs.add((guarantor.pk, debtor.pk))
            plan.append((debtor, guarantor, None, amount()))

    def ring(members: list[_Enterprise]) -> None:
        for guarantor, debtor in zip(members, members[1:] + members[:1], strict=True):
            add(guarantor, debtor)

    owner = _demo_owner(enterprises)
    if owner is not None:
        local = [e for e in by_prefecture[owner.prefecture] if e.pk != owner.pk]
        if len(local) >= 2:
            ring([owner, *rng.sample(local, 2)])
    for i in range(n_circles):
        group = by_prefecture[rng.choice(enterprises).prefecture]
        size = CIRCLE_SIZES[i % len(CIRCLE_SIZES)]
        if len(group) >= size:
            ring(rng.sample(group, size))
    for _attempt in range(n_guarantees * 20):
        if len(pairs) >= n_guarantees:
            break
        debtor = rng.choice(enterprises)
        local = by_prefecture[debtor.prefecture]
        pool = local if len(local) > 1 and rng.random() < LOCAL_GUARANTEE_SHARE else enterprises
        add(rng.choice(pool), debtor)
    debtors = sorted(
        {debtor.pk: debtor for debtor, _g, _p, _a in plan}.values(), key=lambda e: e.pk
    )
    for debtor in debtors:
        if debtor.legal_rep is not None and rng.random() < PERSONAL_GUARANTEE_SHARE:
            plan.append((debtor, None, debtor.legal_rep, amount()))
    return plan


def _seed_guarantees(seed_value: int, report: SeedReport) -> None:
    """Add guarantees between seeded enterprises (with circles) and a few shared phones.

    Drawn from the seed value over the enterprises ordered by code, so the same seed plans the
    same rows; rows already present are skipped, so a second run adds nothing.
    """
    rng = random.Random(f"guarantees:{seed_value}")
    enterprises = [
        _Enterprise(pk, uscc, division[:4], rep, org is not None)
        for pk, uscc, division, rep, org in MarketEntity.objects.filter(
            entity_type=EntityType.ENTERPRISE
        )
        .order_by("uscc")
        .values_list("pk", "uscc", "division_code", "legal_representative_id", "organisation_id")
    ]
    if len(enterprises) < 4:
        return
    plan = _guarantee_plan(rng, enterprises)
    existing = set(
        Relationship.objects.filter(kind=RelationKind.GUARANTOR).values_list(
            "entity_id", "holder_entity_id", "person_id"
        )
    )
    rows = [
        Relationship(
            entity_id=debtor.pk,
            kind=RelationKind.GUARANTOR,
            holder_entity_id=guarantor.pk if guarantor else None,
            person_id=person,
            guaranteed_amount=amount,
        )
        for debtor, guarantor, person, amount in plan
        if (debtor.pk, guarantor.pk if guarantor else None, person) not in existing
    ]
    for chunk in _chunks(rows, BATCH):
        Relationship.objects.bulk_create(chunk, batch_size=BATCH)
    report.guarantees += len(rows)
    report.relationships += len(rows)
    # A few legal representatives share a contact phone (an agent's or a relative's), within a
    # prefecture, the demo owner's among them: the graph links such people. Only people without
    # a phone are given one.
    reps: dict[str, list[int]] = {}
    for e in enterprises:
        if e.legal_rep is not None:
            reps.setdefault(e.prefecture, []).append(e.legal_rep)
    prefectures = sorted(p for p, ids in reps.items() if len(ids) > 1)
    owner = _demo_owner(enterprises)
    phones: dict[int, str] = {}
    for i in range(max(5, len(plan) // 100)):
        if not prefectures:
            break
        if i == 0 and owner is not None and owner.legal_rep is not None:
            a = owner.legal_rep
            b = rng.choice(reps[owner.prefecture])
        else:
            a, b = rng.sample(reps[rng.choice(prefectures)], 2)
        phone = f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"
        if a != b and a not in phones and b not in phones:
            phones[a] = phones[b] = phone
    people = list(Person.objects.filter(pk__in=sorted(phones), phone_index=""))
    for person in people:
        person.phone = phones[person.pk]
        person.phone_index = person_phone_index(phones[person.pk])
    Person.objects.bulk_update(people, ["phone", "phone_index"], batch_size=BATCH)
    report.shared_phones += len(people)


def _seed_users(orgs: dict[str, Organisation], report: SeedReport) -> None:
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


def _seed_scores(seed_value: int, progress: Callable[[str], None]) -> int:
    """Train, activate and run the first scorecard on the demo facts (once)."""
    if ScoreModel.objects.exists():
        return 0
    model = scoring_services.model_train(actor=None, seed=seed_value)
    scoring_services.model_activate(model=model, actor=None, note="demo seed")
    progress(f"scorecard v{model.version}: test AUC {model.metrics['auc_test']:.3f}")
    # the score as the facts stood half a year ago, then today: a real history (trend charts,
    # cultivation candidates) computed from the demo facts, not invented
    half_year_ago = timezone.localdate() - dt.timedelta(days=182)
    scoring_services.profiles_score(as_of=half_year_ago)
    return scoring_services.profiles_score().entities


def _retrain_on_platform_outcomes(seed_value: int, progress: Callable[[str], None]) -> None:
    """Close the loop: train on the seeded loans' outcomes and, if there are enough, activate."""
    model = scoring_services.model_train(actor=None, seed=seed_value, outcomes="auto")
    if model.metrics.get("outcomes") != "platform":
        progress(f"platform outcomes too few, model v{model.version} kept as a draft")
        return
    scoring_services.model_activate(model=model, actor=None, note="demo seed: platform outcomes")
    progress(
        f"scorecard v{model.version} on platform loan outcomes: "
        f"test AUC {model.metrics['auc_test']:.3f}"
    )
    scoring_services.profiles_score()


# ---------------------------------------------------------------- financial products (issue 5)

# (name, type, tags, amount yuan (min, max), term months (min, max), rate % (min, max), extra terms)
_ProductTemplate = tuple[
    str, str, tuple[str, ...], tuple[int, int], tuple[int, int], tuple[float, float], dict
]
BANK_PRODUCTS: list[_ProductTemplate] = [
    (
        "银税贷",
        "credit",
        ("银税贷",),
        (100_000, 3_000_000),
        (12, 36),
        (3.45, 5.5),
        {"tax_grades": ["A", "B"], "min_years_in_business": 2, "collateral_modes": ["none"]},
    ),
    (
        "首贷通",
        "credit",
        ("首贷", "普惠"),
        (100_000, 1_000_000),
        (12, 36),
        (3.6, 5.2),
        {"collateral_modes": ["none"]},
    ),
    (
        "无还本续贷",
        "credit",
        ("续贷", "无还本续贷"),
        (100_000, 3_000_000),
        (12, 36),
        (3.5, 5.8),
        {"min_years_in_business": 2, "min_credit_grade": "BBB", "collateral_modes": ["none"]},
    ),
    (
        "拉面贷",
        "credit",
        ("拉面贷", "创业担保贷"),
        (50_000, 500_000),
        (12, 36),
        (3.85, 4.35),
        {
            "entity_types": ["individual_business"],
            "industries": ["H62"],
            "regions": ["630200"],
            "supports_relending": True,
            "collateral_modes": ["none", "guarantor"],
        },
    ),
    (
        "虫草贷",
        "credit",
        ("虫草贷", "乡村振兴"),
        (100_000, 2_000_000),
        (6, 12),
        (3.9, 5.5),
        {
            "regions": ["632700", "632600", "632300"],
            "industries": ["A", "F"],
            "supports_relending": True,
            "collateral_modes": ["none", "guarantor"],
        },
    ),
    (
        "枸杞贷",
        "credit",
        ("枸杞贷", "乡村振兴"),
        (100_000, 3_000_000),
        (6, 24),
        (3.8, 5.2),
        {
            "regions": ["632800"],
            "industries": ["A01", "C13", "F51"],
            "supports_relending": True,
            "collateral_modes": ["none"],
        },
    ),
    (
        "知识产权质押贷",
        "pledge",
        ("知识产权贷", "科创贷"),
        (500_000, 10_000_000),
        (12, 36),
        (3.5, 4.8),
        {"entity_types": ["enterprise"], "collateral_modes": ["pledge"]},
    ),
    (
        "政采贷",
        "credit",
        ("政采贷",),
        (100_000, 5_000_000),
        (3, 12),
        (3.6, 5.0),
        {"entity_types": ["enterprise"], "collateral_modes": ["none"]},
    ),
    (
        "创业担保贷",
        "policy_special",
        ("创业担保贷",),
        (50_000, 3_000_000),
        (12, 36),
        (1.5, 3.45),
        {"collateral_modes": ["guarantee_company"], "supports_relending": True},
    ),
    (
        "经营抵押贷",
        "mortgage",
        ("续贷",),
        (500_000, 10_000_000),
        (12, 120),
        (3.3, 4.8),
        {"min_years_in_business": 1, "collateral_modes": ["mortgage"]},
    ),
    (
        "供应链订单贷",
        "supply_chain",
        ("普惠",),
        (100_000, 5_000_000),
        (3, 12),
        (3.7, 5.5),
        {
            "entity_types": ["enterprise"],
            "collateral_modes": ["pledge", "none"],
            "supports_rediscount": True,
        },
    ),
    (
        "乡村振兴贷",
        "credit",
        ("乡村振兴", "首贷"),
        (50_000, 1_000_000),
        (12, 36),
        (3.7, 5.0),
        {"industries": ["A"], "supports_relending": True, "collateral_modes": ["none"]},
    ),
    (
        "绿色能源贷",
        "credit",
        ("绿色金融",),
        (1_000_000, 20_000_000),
        (12, 96),
        (3.2, 4.5),
        {
            "industries": ["D", "C38"],
            "min_credit_grade": "A",
            "collateral_modes": ["none", "pledge"],
        },
    ),
    (
        "普惠快贷",
        "credit",
        ("普惠", "首贷"),
        (100_000, 3_000_000),
        (12, 36),
        (3.8, 6.5),
        {"min_credit_grade": "BB", "collateral_modes": ["none"]},
    ),
    (
        "个体工商户经营贷",
        "credit",
        ("普惠",),
        (30_000, 500_000),
        (12, 36),
        (3.9, 6.2),
        {"entity_types": ["individual_business"], "collateral_modes": ["none"]},
    ),
    (
        "科创信用贷",
        "credit",
        ("科创贷", "首贷"),
        (500_000, 5_000_000),
        (12, 36),
        (3.3, 4.6),
        {
            "entity_types": ["enterprise"],
            "industries": ["C", "I", "M"],
            "min_credit_grade": "BBB",
            "collateral_modes": ["none"],
        },
    ),
]
MICROLOAN_PRODUCTS: list[_ProductTemplate] = [
    (
        "小微周转贷",
        "credit",
        ("普惠",),
        (50_000, 1_000_000),
        (3, 24),
        (7.2, 14.4),
        {"collateral_modes": ["none", "guarantor"]},
    ),
    (
        "商户快贷",
        "credit",
        ("首贷",),
        (20_000, 300_000),
        (3, 12),
        (8.0, 15.4),
        {"entity_types": ["individual_business"], "collateral_modes": ["none"]},
    ),
    (
        "过桥续贷",
        "credit",
        ("续贷",),
        (100_000, 2_000_000),
        (1, 6),
        (9.0, 15.4),
        {"min_years_in_business": 1, "collateral_modes": ["guarantor"]},
    ),
    (
        "农牧贷",
        "credit",
        ("乡村振兴",),
        (30_000, 500_000),
        (6, 24),
        (7.5, 12.0),
        {"industries": ["A"], "collateral_modes": ["guarantor"]},
    ),
    (
        "车辆抵押贷",
        "mortgage",
        ("普惠",),
        (50_000, 1_000_000),
        (6, 36),
        (6.5, 12.0),
        {"collateral_modes": ["mortgage"]},
    ),
    (
        "订单融资",
        "supply_chain",
        ("政采贷",),
        (100_000, 2_000_000),
        (3, 12),
        (6.8, 12.0),
        {"entity_types": ["enterprise"], "collateral_modes": ["pledge"]},
    ),
    (
        "税信贷",
        "credit",
        ("银税贷",),
        (50_000, 1_000_000),
        (6, 24),
        (6.5, 11.0),
        {"tax_grades": ["A", "B", "M"], "collateral_modes": ["none"]},
    ),
    (
        "创业启航贷",
        "credit",
        ("首贷",),
        (20_000, 300_000),
        (6, 24),
        (7.0, 13.0),
        {"collateral_modes": ["guarantor"]},
    ),
]
GUARANTOR_PRODUCTS: list[_ProductTemplate] = [
    (
        "批量担保",
        "guarantee",
        ("普惠",),
        (100_000, 3_000_000),
        (12, 36),
        (0.5, 1.0),
        {"collateral_modes": ["guarantee_company"], "supports_relending": True},
    ),
    (
        "创业担保",
        "guarantee",
        ("创业担保贷",),
        (50_000, 3_000_000),
        (12, 36),
        (0.0, 0.5),
        {"collateral_modes": ["guarantee_company"]},
    ),
    (
        "续贷担保",
        "guarantee",
        ("续贷",),
        (100_000, 5_000_000),
        (12, 36),
        (0.8, 1.5),
        {"min_years_in_business": 2, "collateral_modes": ["guarantee_company"]},
    ),
    (
        "知识产权担保",
        "guarantee",
        ("知识产权贷", "科创贷"),
        (500_000, 10_000_000),
        (12, 36),
        (0.8, 1.5),
        {"entity_types": ["enterprise"], "collateral_modes": ["guarantee_company"]},
    ),
    (
        "农牧业担保",
        "guarantee",
        ("乡村振兴", "虫草贷", "枸杞贷"),
        (50_000, 2_000_000),
        (6, 24),
        (0.5, 1.0),
        {"industries": ["A"], "collateral_modes": ["guarantee_company"]},
    ),
    (
        "政采合同担保",
        "guarantee",
        ("政采贷",),
        (100_000, 5_000_000),
        (3, 12),
        (0.8, 1.2),
        {"entity_types": ["enterprise"], "collateral_modes": ["guarantee_company"]},
    ),
]
INSURER_PRODUCTS: list[_ProductTemplate] = [
    (
        "小额贷款保证保险",
        "guarantee",
        ("普惠", "首贷"),
        (50_000, 1_000_000),
        (6, 36),
        (1.0, 2.5),
        {"collateral_modes": ["insurance"]},
    ),
    (
        "农业贷款保证保险",
        "guarantee",
        ("乡村振兴",),
        (30_000, 500_000),
        (6, 24),
        (0.8, 2.0),
        {"industries": ["A"], "collateral_modes": ["insurance"]},
    ),
    (
        "科技贷款保证保险",
        "guarantee",
        ("科创贷", "知识产权贷"),
        (300_000, 5_000_000),
        (12, 36),
        (1.0, 2.0),
        {"entity_types": ["enterprise"], "collateral_modes": ["insurance"]},
    ),
]
# Products per institution kind: 22×14 + 3×8 + 6×6 + 8×3 = 392 (the article: "390+ products")
PRODUCTS_PER_KIND: dict[str, tuple[int, list[_ProductTemplate]]] = {
    OrgKind.BANK: (14, BANK_PRODUCTS),
    OrgKind.MICROLOAN: (8, MICROLOAN_PRODUCTS),
    OrgKind.GUARANTOR: (6, GUARANTOR_PRODUCTS),
    OrgKind.INSURER: (3, INSURER_PRODUCTS),
}
_KIND_LETTER: dict[str, str] = {
    OrgKind.BANK: "B",
    OrgKind.MICROLOAN: "M",
    OrgKind.GUARANTOR: "G",
    OrgKind.INSURER: "I",
}
_REPAYMENTS = ["equal_instalment", "equal_principal", "interest_first", "bullet", "flexible"]


def _short_institution(name: str) -> str:
    for suffix in ("青海省分行", "青海分行", "西宁分行", "青海省分公司", "青海分公司", "有限公司"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _product_terms(rng: random.Random, template: _ProductTemplate) -> dict:
    """Jitter a template's terms deterministically, keeping them within its ranges."""
    _name, ptype, tags, (amin, amax), (tmin, tmax), (rmin, rmax), extra = template
    step = 10_000 if amin < 1_000_000 else 100_000
    lo = amin + step * rng.randint(0, 2)
    hi = max(lo, amax - step * rng.randint(0, 4))
    r_lo = round(rmin + rng.choice([0, 0.05, 0.1, 0.15, 0.2]), 2)
    r_hi = max(r_lo, round(rmax - rng.choice([0, 0.05, 0.1, 0.2]), 2))
    return {
        "product_type": ptype,
        "amount_min": Decimal(lo),
        "amount_max": Decimal(hi),
        "term_min_months": tmin,
        "term_max_months": tmax,
        "rate_min": Decimal(str(r_lo)),
        "rate_max": Decimal(str(r_hi)),
        "repayment_methods": rng.sample(_REPAYMENTS, rng.randint(1, 3)),
        "entity_types": [],
        "industries": [],
        "regions": [],
        "min_years_in_business": 0,
        "min_credit_grade": "",
        "tax_grades": [],
        "collateral_modes": [],
        "tags": list(tags),
        "supports_relending": False,
        "supports_rediscount": False,
        "days_to_accept": rng.choice([1, 2, 3, 3, 5]),
        "days_to_decide": rng.choice([3, 5, 7, 7, 10, 15]),
        "description": "",
        **extra,
    }


def _seed_products(orgs: dict[str, Organisation], seed_value: int) -> int:
    """Publish about 390 products over the seeded institutions; existing codes are skipped."""
    rng = random.Random(f"products:{seed_value}")
    now = timezone.now()
    planned: list[tuple[Organisation, str, str, dict, dt.datetime]] = []
    counters: dict[str, int] = {}
    for kind, name in INSTITUTIONS:
        if kind not in PRODUCTS_PER_KIND or name not in orgs:
            continue
        count, templates = PRODUCTS_PER_KIND[kind]
        letter = _KIND_LETTER[kind]
        counters[letter] = counters.get(letter, 0) + 1
        org = orgs[name]
        short = _short_institution(name)
        for j, template in enumerate(rng.sample(templates, min(count, len(templates)))):
            code = f"QH-{letter}{counters[letter]:02d}-{j + 1:02d}"
            terms = terms_clean(_product_terms(rng, template))
            terms["description"] = f"{short}面向青海小微企业和个体工商户推出的{template[0]}产品。"
            published = now - dt.timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
            planned.append((org, code, f"{short}·{template[0]}", terms, published))
    existing = set(
        Product.objects.filter(code__in=[p[1] for p in planned]).values_list("code", flat=True)
    )
    todo = [p for p in planned if p[1] not in existing]
    if not todo:
        return 0
    products = Product.objects.bulk_create(
        [
            Product(
                institution=org,
                code=code,
                name=name,
                status=ProductStatus.PUBLISHED,
                published_at=published,
            )
            for org, code, name, _t, published in todo
        ]
    )
    versions = ProductVersion.objects.bulk_create(
        [
            ProductVersion(
                product=product,
                number=1,
                status=VersionStatus.PUBLISHED,
                region_index=region_index(terms["regions"]),
                tag_index=tag_index(terms["tags"]),
                submitted_at=published - dt.timedelta(days=2),
                published_at=published,
                **terms,
            )
            for product, (_o, _c, _n, terms, published) in zip(products, todo, strict=True)
        ]
    )
    for product, version in zip(products, versions, strict=True):
        product.current_version = version
    Product.objects.bulk_update(products, ["current_version"])
    steps = (
        (EventKind.CREATED, "", ProductStatus.DRAFT, 3),
        (EventKind.SUBMITTED, ProductStatus.DRAFT, ProductStatus.IN_REVIEW, 2),
        (EventKind.APPROVED, ProductStatus.IN_REVIEW, ProductStatus.PUBLISHED, 0),
    )
    ProductEvent.objects.bulk_create(
        [
            ProductEvent(
                product=product,
                version=version,
                kind=kind,
                from_status=before,
                to_status=after,
                note="演示数据" if kind == EventKind.CREATED else "",
                created_at=(product.published_at or now) - dt.timedelta(days=days_before),
            )
            for product, version in zip(products, versions, strict=True)
            for kind, before, after, days_before in steps
        ]
    )
    return len(products)


def seed(
    *,
    scale: str = "demo",
    seed_value: int = 20221,
    progress: Callable[[str], None] = lambda _m: None,
) -> SeedReport:
    """Load the demo data set of ``scale``; repeated runs add nothing."""
    import time

    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    report = SeedReport()
    rng = random.Random(seed_value)
    t0 = time.perf_counter()
    with transaction.atomic():
        orgs = _seed_organisations(report)
        for code, name, _p in TAGS:
            Tag.objects.get_or_create(code=code, defaults={"name": name})
    report.timings["organisations"] = time.perf_counter() - t0
    prefectures = {CITY_PREFECTURE: 1.0} if scale == "city" else PREFECTURE_WEIGHTS
    t1 = time.perf_counter()
    _seed_registry(rng, SCALES[scale], prefectures, report, progress)
    report.timings["registry"] = time.perf_counter() - t1
    t_guarantees = time.perf_counter()
    with transaction.atomic():
        _seed_guarantees(seed_value, report)
    report.timings["guarantees"] = time.perf_counter() - t_guarantees
    t_facts = time.perf_counter()
    report.facts = datahub_demo.seed_facts(orgs=orgs, seed_value=seed_value, progress=progress)
    report.timings["facts"] = time.perf_counter() - t_facts
    t_score = time.perf_counter()
    report.scored = _seed_scores(seed_value, progress)
    report.timings["scoring"] = time.perf_counter() - t_score
    t2 = time.perf_counter()
    with transaction.atomic():
        _seed_users(orgs, report)
    report.timings["users"] = time.perf_counter() - t2
    t_products = time.perf_counter()
    with transaction.atomic():
        report.products = _seed_products(orgs, seed_value)
    report.timings["products"] = time.perf_counter() - t_products
    t_financing = time.perf_counter()
    financing = marketplace_demo.seed_financing(seed_value=seed_value, progress=progress)
    report.applications, report.loans = financing.applications, financing.loans
    report.demands = financing.demands
    report.timings["financing"] = time.perf_counter() - t_financing
    if financing.loans:
        t_retrain = time.perf_counter()
        _retrain_on_platform_outcomes(seed_value, progress)
        report.timings["platform model"] = time.perf_counter() - t_retrain
    return report


__all__ = ["DEMO_PASSWORD", "SCALES", "SeedReport", "demo_logins", "seed"]
