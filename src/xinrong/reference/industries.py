"""Industrial classification for national economic activities, GB/T 4754-2017.

Sections (门类) A–T and the 97 two-digit divisions (大类) 01–97. Codes are stored normalised as
the section letter followed by the digits: "C" (a section), "C13" (a division), and, where a
finer code was given, "K7010" (a class; only its division is checked against the table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

# Section letter, Chinese name, English name, divisions (code, Chinese name, English name).
_TABLE: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "A",
        N_("农、林、牧、渔业"),
        "Agriculture, forestry, animal husbandry and fishery",
        (
            ("01", N_("农业"), "Agriculture"),
            ("02", N_("林业"), "Forestry"),
            ("03", N_("畜牧业"), "Animal husbandry"),
            ("04", N_("渔业"), "Fishery"),
            (
                "05",
                N_("农、林、牧、渔专业及辅助性活动"),
                "Professional and support activities for agriculture, forestry, animal "
                "husbandry and fishery",
            ),
        ),
    ),
    (
        "B",
        N_("采矿业"),
        "Mining",
        (
            ("06", N_("煤炭开采和洗选业"), "Mining and washing of coal"),
            ("07", N_("石油和天然气开采业"), "Extraction of petroleum and natural gas"),
            ("08", N_("黑色金属矿采选业"), "Mining and processing of ferrous metal ores"),
            ("09", N_("有色金属矿采选业"), "Mining and processing of non-ferrous metal ores"),
            ("10", N_("非金属矿采选业"), "Mining and processing of non-metallic minerals"),
            ("11", N_("开采专业及辅助性活动"), "Professional and support activities for mining"),
            ("12", N_("其他采矿业"), "Other mining"),
        ),
    ),
    (
        "C",
        N_("制造业"),
        "Manufacturing",
        (
            ("13", N_("农副食品加工业"), "Processing of food from agricultural products"),
            ("14", N_("食品制造业"), "Manufacture of foods"),
            (
                "15",
                N_("酒、饮料和精制茶制造业"),
                "Manufacture of liquor, beverages and refined tea",
            ),
            ("16", N_("烟草制品业"), "Manufacture of tobacco products"),
            ("17", N_("纺织业"), "Manufacture of textiles"),
            (
                "18",
                N_("纺织服装、服饰业"),
                "Manufacture of textile wearing apparel and accessories",
            ),
            (
                "19",
                N_("皮革、毛皮、羽毛及其制品和制鞋业"),
                "Manufacture of leather, fur, feather and related products, and footwear",
            ),
            (
                "20",
                N_("木材加工和木、竹、藤、棕、草制品业"),
                "Processing of timber; manufacture of wood, bamboo, rattan, palm and straw "
                "products",
            ),
            ("21", N_("家具制造业"), "Manufacture of furniture"),
            ("22", N_("造纸和纸制品业"), "Manufacture of paper and paper products"),
            ("23", N_("印刷和记录媒介复制业"), "Printing and reproduction of recording media"),
            (
                "24",
                N_("文教、工美、体育和娱乐用品制造业"),
                "Manufacture of articles for culture, education, arts and crafts, sport and "
                "entertainment",
            ),
            (
                "25",
                N_("石油、煤炭及其他燃料加工业"),
                "Processing of petroleum, coal and other fuels",
            ),
            (
                "26",
                N_("化学原料和化学制品制造业"),
                "Manufacture of raw chemical materials and chemical products",
            ),
            ("27", N_("医药制造业"), "Manufacture of medicines"),
            ("28", N_("化学纤维制造业"), "Manufacture of chemical fibres"),
            ("29", N_("橡胶和塑料制品业"), "Manufacture of rubber and plastic products"),
            ("30", N_("非金属矿物制品业"), "Manufacture of non-metallic mineral products"),
            ("31", N_("黑色金属冶炼和压延加工业"), "Smelting and pressing of ferrous metals"),
            ("32", N_("有色金属冶炼和压延加工业"), "Smelting and pressing of non-ferrous metals"),
            ("33", N_("金属制品业"), "Manufacture of metal products"),
            ("34", N_("通用设备制造业"), "Manufacture of general-purpose machinery"),
            ("35", N_("专用设备制造业"), "Manufacture of special-purpose machinery"),
            ("36", N_("汽车制造业"), "Manufacture of automobiles"),
            (
                "37",
                N_("铁路、船舶、航空航天和其他运输设备制造业"),
                "Manufacture of railway, ship, aerospace and other transport equipment",
            ),
            ("38", N_("电气机械和器材制造业"), "Manufacture of electrical machinery and apparatus"),
            (
                "39",
                N_("计算机、通信和其他电子设备制造业"),
                "Manufacture of computers, communication and other electronic equipment",
            ),
            ("40", N_("仪器仪表制造业"), "Manufacture of measuring instruments and meters"),
            ("41", N_("其他制造业"), "Other manufacturing"),
            ("42", N_("废弃资源综合利用业"), "Utilisation of waste resources"),
            (
                "43",
                N_("金属制品、机械和设备修理业"),
                "Repair of metal products, machinery and equipment",
            ),
        ),
    ),
    (
        "D",
        N_("电力、热力、燃气及水生产和供应业"),
        "Production and supply of electricity, heat, gas and water",
        (
            ("44", N_("电力、热力生产和供应业"), "Production and supply of electricity and heat"),
            ("45", N_("燃气生产和供应业"), "Production and supply of gas"),
            ("46", N_("水的生产和供应业"), "Production and supply of water"),
        ),
    ),
    (
        "E",
        N_("建筑业"),
        "Construction",
        (
            ("47", N_("房屋建筑业"), "Construction of buildings"),
            ("48", N_("土木工程建筑业"), "Civil engineering"),
            ("49", N_("建筑安装业"), "Construction installation"),
            (
                "50",
                N_("建筑装饰、装修和其他建筑业"),
                "Building decoration, renovation and other construction",
            ),
        ),
    ),
    (
        "F",
        N_("批发和零售业"),
        "Wholesale and retail trade",
        (
            ("51", N_("批发业"), "Wholesale trade"),
            ("52", N_("零售业"), "Retail trade"),
        ),
    ),
    (
        "G",
        N_("交通运输、仓储和邮政业"),
        "Transport, storage and postal services",
        (
            ("53", N_("铁路运输业"), "Rail transport"),
            ("54", N_("道路运输业"), "Road transport"),
            ("55", N_("水上运输业"), "Water transport"),
            ("56", N_("航空运输业"), "Air transport"),
            ("57", N_("管道运输业"), "Pipeline transport"),
            ("58", N_("多式联运和运输代理业"), "Multimodal transport and transport agency"),
            ("59", N_("装卸搬运和仓储业"), "Loading, unloading and warehousing"),
            ("60", N_("邮政业"), "Postal services"),
        ),
    ),
    (
        "H",
        N_("住宿和餐饮业"),
        "Accommodation and catering",
        (
            ("61", N_("住宿业"), "Accommodation"),
            ("62", N_("餐饮业"), "Catering"),
        ),
    ),
    (
        "I",
        N_("信息传输、软件和信息技术服务业"),
        "Information transmission, software and information technology services",
        (
            (
                "63",
                N_("电信、广播电视和卫星传输服务"),
                "Telecommunications, broadcasting and satellite transmission services",
            ),
            ("64", N_("互联网和相关服务"), "Internet and related services"),
            ("65", N_("软件和信息技术服务业"), "Software and information technology services"),
        ),
    ),
    (
        "J",
        N_("金融业"),
        "Finance",
        (
            ("66", N_("货币金融服务"), "Monetary and financial services"),
            ("67", N_("资本市场服务"), "Capital market services"),
            ("68", N_("保险业"), "Insurance"),
            ("69", N_("其他金融业"), "Other financial activities"),
        ),
    ),
    ("K", N_("房地产业"), "Real estate", (("70", N_("房地产业"), "Real estate"),)),
    (
        "L",
        N_("租赁和商务服务业"),
        "Leasing and business services",
        (
            ("71", N_("租赁业"), "Leasing"),
            ("72", N_("商务服务业"), "Business services"),
        ),
    ),
    (
        "M",
        N_("科学研究和技术服务业"),
        "Scientific research and technical services",
        (
            ("73", N_("研究和试验发展"), "Research and experimental development"),
            ("74", N_("专业技术服务业"), "Professional technical services"),
            ("75", N_("科技推广和应用服务业"), "Technology promotion and application services"),
        ),
    ),
    (
        "N",
        N_("水利、环境和公共设施管理业"),
        "Management of water conservancy, environment and public facilities",
        (
            ("76", N_("水利管理业"), "Water conservancy management"),
            (
                "77",
                N_("生态保护和环境治理业"),
                "Ecological protection and environmental management",
            ),
            ("78", N_("公共设施管理业"), "Public facilities management"),
            ("79", N_("土地管理业"), "Land management"),
        ),
    ),
    (
        "O",
        N_("居民服务、修理和其他服务业"),
        "Resident services, repair and other services",
        (
            ("80", N_("居民服务业"), "Resident services"),
            (
                "81",
                N_("机动车、电子产品和日用产品修理业"),
                "Repair of motor vehicles, electronic products and household goods",
            ),
            ("82", N_("其他服务业"), "Other services"),
        ),
    ),
    ("P", N_("教育"), "Education", (("83", N_("教育"), "Education"),)),
    (
        "Q",
        N_("卫生和社会工作"),
        "Health and social work",
        (
            ("84", N_("卫生"), "Health"),
            ("85", N_("社会工作"), "Social work"),
        ),
    ),
    (
        "R",
        N_("文化、体育和娱乐业"),
        "Culture, sports and entertainment",
        (
            ("86", N_("新闻和出版业"), "News and publishing"),
            (
                "87",
                N_("广播、电视、电影和录音制作业"),
                "Radio, television, film and sound recording production",
            ),
            ("88", N_("文化艺术业"), "Culture and arts"),
            ("89", N_("体育"), "Sports"),
            ("90", N_("娱乐业"), "Entertainment"),
        ),
    ),
    (
        "S",
        N_("公共管理、社会保障和社会组织"),
        "Public administration, social security and social organisations",
        (
            ("91", N_("中国共产党机关"), "Organs of the Communist Party of China"),
            ("92", N_("国家机构"), "State organs"),
            ("93", N_("人民政协、民主党派"), "CPPCC and democratic parties"),
            ("94", N_("社会保障"), "Social security"),
            (
                "95",
                N_("群众团体、社会团体和其他成员组织"),
                "Mass organisations, social organisations and other membership organisations",
            ),
            (
                "96",
                N_("基层群众自治组织及其他组织"),
                "Grassroots self-governing mass organisations and other organisations",
            ),
        ),
    ),
    (
        "T",
        N_("国际组织"),
        "International organisations",
        (("97", N_("国际组织"), "International organisations"),),
    ),
)

_CODE_RE = re.compile(r"^([A-T])?([0-9]{2,4})?$")


@dataclass(frozen=True, slots=True)
class Industry:
    """A section ("C") or a two-digit division ("C13") of GB/T 4754-2017."""

    code: str
    name: str
    name_en: str
    section: str

    @property
    def is_section(self) -> bool:
        """Return whether this is a section (门类) rather than a division (大类)."""
        return len(self.code) == 1

    @property
    def digits(self) -> str:
        """Return the two digits of a division ("13"), or "" for a section."""
        return self.code[1:]

    @property
    def display_name(self) -> str:
        """Return the translated name."""
        return gettext(self.name)

    @property
    def label(self) -> str:
        """Return code and translated name, e.g. "C13 农副食品加工业"."""
        return f"{self.code} {self.display_name}"


_SECTIONS: dict[str, Industry] = {
    letter: Industry(letter, name, name_en, letter) for letter, name, name_en, _rows in _TABLE
}
_DIVISIONS: dict[str, Industry] = {
    digits: Industry(letter + digits, name, name_en, letter)
    for letter, _name, _name_en, rows in _TABLE
    for digits, name, name_en in rows
}


def _split(code: str) -> tuple[str, str] | None:
    """Return (section letter, digits) of a valid code, or None."""
    match = _CODE_RE.match(code.strip().upper().replace(" ", ""))
    if match is None:
        return None
    letter, digits = match.group(1) or "", match.group(2) or ""
    if not letter and not digits:
        return None
    if digits:
        division = _DIVISIONS.get(digits[:2])
        if division is None or (letter and letter != division.section):
            return None
        return division.section, digits
    return letter, ""


def normalize(code: str) -> str:
    """Return the stored form ("13" → "C13", "7010" → "K7010", "c" → "C").

    Raises ValueError for a code that is not in GB/T 4754-2017.
    """
    parts = _split(code)
    if parts is None:
        raise ValueError(f"not a GB/T 4754-2017 code: {code!r}")
    return parts[0] + parts[1]


def get(code: str) -> Industry | None:
    """Return the section or two-digit division for "C", "C13", "13" or a class code like "7010"."""
    parts = _split(code)
    if parts is None:
        return None
    letter, digits = parts
    return _DIVISIONS[digits[:2]] if digits else _SECTIONS[letter]


def is_valid(code: str) -> bool:
    """Return whether the code names a section or a division (finer codes by their division)."""
    return _split(code) is not None


def section_of(code: str) -> str:
    """Return the section letter of a code ("13" → "C"); raise ValueError if unknown."""
    parts = _split(code)
    if parts is None:
        raise ValueError(f"not a GB/T 4754-2017 code: {code!r}")
    return parts[0]


def sections() -> list[Industry]:
    """Return the 20 sections A–T."""
    return list(_SECTIONS.values())


def divisions(section: str | None = None) -> list[Industry]:
    """Return all 97 divisions, or those of one section ([] for an unknown section)."""
    if section is None:
        return list(_DIVISIONS.values())
    letter = section.strip().upper()
    return [d for d in _DIVISIONS.values() if d.section == letter]


def choices() -> list[tuple[str, str]]:
    """Return (code, "C13 农副食品加工业") pairs of all divisions for form fields."""
    return [(d.code, d.label) for d in _DIVISIONS.values()]


def grouped_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Return division choices grouped by section label, for <optgroup> rendering."""
    return [(s.label, [(d.code, d.label) for d in divisions(s.code)]) for s in sections()]
