"""Enterprise size classification: 中小企业划型标准规定 (工信部联企业〔2011〕300号).

Each industry category names the indicators it uses — employees (Y, 从业人员, persons), operating
revenue (R, 营业收入, ¥10k) and total assets (A, 资产总额, ¥10k) — and the lower bounds of the
large, medium and small classes. A class needs *every* indicator at or above its bound ("≥ and");
an enterprise meeting no bound is micro. Industry codes are GB/T 4754-2017 (the standard was
written against GB/T 4754-2011; see ``_TRANSPORT`` for the one code that moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from xinrong.reference import industries
from xinrong.reference.choices import SizeClass
from xinrong.reference.errors import ReferenceDataError

EMPLOYEES = "employees"
REVENUE = "revenue"
ASSETS = "assets"

# Indicator key → (name, unit); marked for translation, translated where shown.
INDICATORS: dict[str, tuple[str, str]] = {
    EMPLOYEES: (N_("从业人员"), N_("人")),
    REVENUE: (N_("营业收入"), N_("万元")),
    ASSETS: (N_("资产总额"), N_("万元")),
}

Number = Decimal | int


@dataclass(frozen=True, slots=True)
class SizeBound:
    """Lower bounds of one size class; None means the category does not use that indicator."""

    size_class: SizeClass
    employees: int | None = None
    revenue: Decimal | None = None
    assets: Decimal | None = None

    def is_met(self, *, employees: Number, revenue: Number, assets: Number) -> bool:
        """Return whether every bound used is reached."""
        return (
            (self.employees is None or employees >= self.employees)
            and (self.revenue is None or revenue >= self.revenue)
            and (self.assets is None or assets >= self.assets)
        )


@dataclass(frozen=True, slots=True)
class SizeCategory:
    """An industry category of the standard with its indicators and class bounds."""

    key: str
    name: str
    # Section letters ("C") or division/group/class digit prefixes ("51", "701").
    industries: tuple[str, ...]
    indicators: tuple[str, ...]
    bounds: tuple[SizeBound, SizeBound, SizeBound]  # large, medium, small

    @property
    def display_name(self) -> str:
        """Return the translated name."""
        return gettext(self.name)


def _category(
    key: str,
    name: str,
    codes: tuple[str, ...],
    indicators: tuple[str, ...],
    large: tuple[int, ...],
    medium: tuple[int, ...],
    small: tuple[int, ...],
) -> SizeCategory:
    """Build a category from bounds listed in the order of ``indicators``."""

    def bound(size_class: SizeClass, values: tuple[int, ...]) -> SizeBound:
        given = dict(zip(indicators, values, strict=True))
        return SizeBound(
            size_class=size_class,
            employees=given.get(EMPLOYEES),
            revenue=Decimal(given[REVENUE]) if REVENUE in given else None,
            assets=Decimal(given[ASSETS]) if ASSETS in given else None,
        )

    return SizeCategory(
        key=key,
        name=name,
        industries=codes,
        indicators=indicators,
        bounds=(
            bound(SizeClass.LARGE, large),
            bound(SizeClass.MEDIUM, medium),
            bound(SizeClass.SMALL, small),
        ),
    )


Y_R = (EMPLOYEES, REVENUE)
# 交通运输业 excludes 铁路运输业 (53). GB/T 4754-2011 had 装卸搬运 in division 58 (装卸搬运和运输
# 代理业); GB/T 4754-2017 moved it to group 591, so 591 stays with transport, not warehousing.
_TRANSPORT = ("54", "55", "56", "57", "58", "591")

# The whole table of the standard, in its order. Bounds: (large, medium, small) lower bounds in
# the order of the indicators. 其他未列明行业 catches every code not matched above.
SIZE_CATEGORIES: tuple[SizeCategory, ...] = (
    _category("agriculture", N_("农、林、牧、渔业"), ("A",), (REVENUE,), (20000,), (500,), (50,)),
    _category("industry", N_("工业"), ("B", "C", "D"), Y_R, (1000, 40000), (300, 2000), (20, 300)),
    _category(
        "construction",
        N_("建筑业"),
        ("E",),
        (REVENUE, ASSETS),
        (80000, 80000),
        (6000, 5000),
        (300, 300),
    ),
    _category("wholesale", N_("批发业"), ("51",), Y_R, (200, 40000), (20, 5000), (5, 1000)),
    _category("retail", N_("零售业"), ("52",), Y_R, (300, 20000), (50, 500), (10, 100)),
    _category(
        "transport", N_("交通运输业"), _TRANSPORT, Y_R, (1000, 30000), (300, 3000), (20, 200)
    ),
    _category("warehousing", N_("仓储业"), ("59",), Y_R, (200, 30000), (100, 1000), (20, 100)),
    _category("postal", N_("邮政业"), ("60",), Y_R, (1000, 30000), (300, 2000), (20, 100)),
    _category("accommodation", N_("住宿业"), ("61",), Y_R, (300, 10000), (100, 2000), (10, 100)),
    _category("catering", N_("餐饮业"), ("62",), Y_R, (300, 10000), (100, 2000), (10, 100)),
    _category(
        "information_transmission",
        N_("信息传输业"),
        ("63", "64"),
        Y_R,
        (2000, 100000),
        (100, 1000),
        (10, 100),
    ),
    _category(
        "software_it",
        N_("软件和信息技术服务业"),
        ("65",),
        Y_R,
        (300, 10000),
        (100, 1000),
        (10, 50),
    ),
    _category(
        "real_estate_development",
        N_("房地产开发经营"),
        ("701",),
        (REVENUE, ASSETS),
        (200000, 10000),
        (1000, 5000),
        (100, 2000),
    ),
    _category(
        "property_management",
        N_("物业管理"),
        ("702",),
        Y_R,
        (1000, 5000),
        (300, 1000),
        (100, 500),
    ),
    _category(
        "leasing_business",
        N_("租赁和商务服务业"),
        ("L",),
        (EMPLOYEES, ASSETS),
        (300, 120000),
        (100, 8000),
        (10, 100),
    ),
    _category("other", N_("其他未列明行业"), (), (EMPLOYEES,), (300,), (100,), (10,)),
)

_OTHER = SIZE_CATEGORIES[-1]
# Digit prefixes, longest first, so "591" wins over "59" and "701" over nothing.
_BY_PREFIX: tuple[tuple[str, SizeCategory], ...] = tuple(
    sorted(
        ((code, c) for c in SIZE_CATEGORIES for code in c.industries if code.isdigit()),
        key=lambda item: -len(item[0]),
    )
)
_BY_SECTION: dict[str, SizeCategory] = {
    code: c for c in SIZE_CATEGORIES for code in c.industries if code.isalpha()
}


def category_for(industry_code: str) -> SizeCategory:
    """Return the size category of a GB/T 4754-2017 code ("C13", "51", "K7010", "L")."""
    try:
        code = industries.normalize(industry_code)
    except ValueError as exc:
        raise ReferenceDataError(
            "industry_unknown",
            gettext("行业代码“%(code)s”不在《国民经济行业分类》(GB/T 4754-2017) 中")
            % {"code": industry_code},
            {"field": "industry_code"},
            status=422,
        ) from exc
    section, digits = code[0], code[1:]
    for prefix, category in _BY_PREFIX:
        if digits.startswith(prefix):
            return category
    return _BY_SECTION.get(section, _OTHER)


def classify(
    industry_code: str,
    employees: int | None,
    revenue: Decimal | int | None,
    assets: Decimal | int | None,
) -> SizeClass:
    """Return the size class; revenue and assets are in ¥10k (万元).

    Raises ReferenceDataError ``size_missing_indicator`` when an indicator the category uses is
    missing, and ``size_negative_indicator`` when one is negative.
    """
    category = category_for(industry_code)
    values: dict[str, Number | None] = {EMPLOYEES: employees, REVENUE: revenue, ASSETS: assets}
    for indicator in category.indicators:
        value = values[indicator]
        name, unit = INDICATORS[indicator]
        if value is None:
            raise ReferenceDataError(
                "size_missing_indicator",
                gettext("按“%(category)s”划型需要“%(indicator)s”（%(unit)s）")
                % {
                    "category": category.display_name,
                    "indicator": gettext(name),
                    "unit": gettext(unit),
                },
                {"field": indicator, "category": category.key},
                status=422,
            )
        if value < 0:
            raise ReferenceDataError(
                "size_negative_indicator",
                gettext("“%(indicator)s”不能为负数") % {"indicator": gettext(name)},
                {"field": indicator, "category": category.key},
                status=422,
            )
    for bound in category.bounds:
        if bound.is_met(
            employees=employees or 0, revenue=revenue or Decimal(0), assets=assets or Decimal(0)
        ):
            return bound.size_class
    return SizeClass.MICRO


def is_small_or_micro(size_class: SizeClass | str) -> bool:
    """Return whether the class is small or micro (小微企业)."""
    return size_class in (SizeClass.SMALL, SizeClass.MICRO)
