"""Administrative divisions (GB/T 2260 and NBS statistical codes)."""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from xinrong.reference import divisions

DATA = Path(divisions.__file__).parent / "data" / "divisions.csv"
BUILD_SCRIPT = Path(divisions.__file__).resolve().parents[3] / "scripts" / "build_divisions.py"

QINGHAI_PREFECTURES = [
    ("630100", "西宁市"),
    ("630200", "海东市"),
    ("632200", "海北藏族自治州"),
    ("632300", "黄南藏族自治州"),
    ("632500", "海南藏族自治州"),
    ("632600", "果洛藏族自治州"),
    ("632700", "玉树藏族自治州"),
    ("632800", "海西蒙古族藏族自治州"),
]


def qinghai_count(level: int) -> int:
    """Return how many Qinghai divisions of a level the data holds."""
    return sum(1 for d in divisions.all_divisions() if d.code[:2] == "63" and d.level == level)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (divisions.LEVEL_PREFECTURE, 8),
        (divisions.LEVEL_COUNTY, 45),
        (divisions.LEVEL_TOWNSHIP, 422),
        (divisions.LEVEL_VILLAGE, 4716),
    ],
)
def test_qinghai_has_the_published_number_of_divisions(level, expected):
    assert qinghai_count(level) == expected


def test_qinghai_prefectures_are_the_eight_named_in_the_article():
    assert [(d.code, d.name) for d in divisions.children("630000")] == QINGHAI_PREFECTURES


def test_whole_country_has_provinces_prefectures_and_counties():
    levels = Counter(d.level for d in divisions.all_divisions())
    assert levels[divisions.LEVEL_PROVINCE] == 34
    assert levels[divisions.LEVEL_PREFECTURE] == 342
    assert levels[divisions.LEVEL_COUNTY] == 2975


def test_townships_and_villages_only_for_qinghai():
    detailed = {d.code[:2] for d in divisions.all_divisions() if d.level >= 4}
    assert detailed == {"63"}


def test_provinces_include_taiwan_hong_kong_and_macao():
    provinces = {d.code: d.name for d in divisions.children(None)}
    assert len(provinces) == 34
    assert provinces["630000"] == "青海省"
    assert provinces["710000"] == "台湾省"
    assert provinces["810000"] == "香港特别行政区"
    assert provinces["820000"] == "澳门特别行政区"


def test_csv_has_header_unique_codes_and_existing_parents():
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["code", "name", "level", "parent_code"]
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes))
    known = set(codes)
    assert all(row["parent_code"] in known for row in rows if row["parent_code"])


def test_every_code_starts_with_its_parents_descendants_prefix():
    for division in divisions.all_divisions():
        if division.parent_code is not None:
            parent = divisions.get(division.parent_code)
            assert parent is not None
            assert parent.level == division.level - 1
            assert division.code.startswith(divisions.descendants_prefix(parent.code))


def test_get_returns_a_division():
    division = divisions.get("630102")
    assert division == divisions.Division("630102", "城东区", 3, "630100")
    assert division.level_name == "县级"
    assert divisions.get("999999") is None


def test_county_level_city_without_counties_appears_once():
    dongguan = divisions.get("441900")
    assert dongguan is not None
    assert dongguan.level == divisions.LEVEL_PREFECTURE
    assert divisions.children("441900") == []


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("63", "630000"),
        ("6301", "630100"),
        (" 630102 ", "630102"),
        ("630102000000", "630102"),
        ("630102001000", "630102001"),
        ("630102001001", "630102001001"),
    ],
)
def test_normalize_code_accepts_short_and_statistical_forms(raw, stored):
    assert divisions.normalize_code(raw) == stored


def test_children_of_a_prefecture_and_of_unknown_code():
    counties = divisions.children("630100")
    assert [d.name for d in counties] == [
        "城东区",
        "城中区",
        "城西区",
        "城北区",
        "湟中区",
        "大通回族土族自治县",
        "湟源县",
    ]
    assert divisions.children("999999") == []


def test_has_children():
    assert divisions.has_children("630102")
    assert divisions.has_children("630102001")
    assert not divisions.has_children("630102001001")
    assert not divisions.has_children("110101")  # townships outside Qinghai are not loaded


def test_ancestors_are_listed_province_first():
    chain = divisions.ancestors("630102001001")
    assert [d.code for d in chain] == ["630000", "630100", "630102", "630102001"]
    assert divisions.ancestors("630000") == []
    assert divisions.ancestors("999999") == []


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("630102", "青海省西宁市城东区"),
        ("630000", "青海省"),
        ("110101", "北京市东城区"),  # 110100 市辖区 is skipped
        ("500235", "重庆市云阳县"),  # 500200 县 is skipped
        ("419001", "河南省济源市"),  # 419000 省直辖县级行政区划 is skipped
        ("630102001001", "青海省西宁市城东区东关大街街道北关社区居民委员会"),
        ("999999", ""),
    ],
)
def test_full_name(code, name):
    assert divisions.full_name(code) == name


def test_province_exists():
    assert divisions.province_exists("63")
    assert divisions.province_exists("82")
    assert not divisions.province_exists("10")
    assert not divisions.province_exists("99")
    assert not divisions.province_exists("630000")


def test_county_known():
    assert divisions.county_known("630102")
    assert divisions.county_known("630100")
    assert not divisions.county_known("110103")  # 崇文区, merged in 2010
    assert not divisions.county_known("630102001")


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("630000", "63"),
        ("63", "63"),
        ("630100", "6301"),
        ("630102", "630102"),
        ("630102001", "630102001"),
        ("630102001001", "630102001001"),
        ("110103", "110103"),  # unknown but well-formed: by shape
    ],
)
def test_descendants_prefix(code, prefix):
    assert divisions.descendants_prefix(code) == prefix


def test_descendants_prefix_rejects_malformed_code():
    with pytest.raises(ValueError):
        divisions.descendants_prefix("63A1")


def test_descendants_prefix_selects_exactly_the_subtree():
    def subtree(code: str) -> set[str]:
        found = {code}
        for child in divisions.children(code):
            found |= subtree(child.code)
        return found

    for root in ["630000", "630100", "632800", "630102", "630102001"]:
        prefix = divisions.descendants_prefix(root)
        by_prefix = {d.code for d in divisions.all_divisions() if d.code.startswith(prefix)}
        assert by_prefix == subtree(root)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("630000", 1),
        ("630100", 2),
        ("630102", 3),
        ("630102001", 4),
        ("630102001001", 5),
        ("110103", 3),
        ("120200", 2),
        ("12345", None),
        ("abcdef", None),
    ],
)
def test_level_of(code, level):
    assert divisions.level_of(code) == level


def test_level_names():
    assert divisions.LEVEL_NAMES == {1: "省级", 2: "地级", 3: "县级", 4: "乡级", 5: "村级"}


@pytest.mark.skipif(not BUILD_SCRIPT.exists(), reason="build script is not shipped")
def test_build_script_pads_codes_and_drops_duplicate_county_rows(tmp_path):
    spec = importlib.util.spec_from_file_location("build_divisions", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = {
        "provinces.csv": 'code,name\n44,"广东省"\n63,"青海省"\n',
        "cities.csv": 'code,name,provinceCode\n4419,"东莞市",44\n6301,"西宁市",63\n',
        "areas.csv": (
            'code,name,cityCode,provinceCode\n441900,"东莞市",4419,44\n630102,"城东区",6301,63\n'
        ),
        "streets.csv": (
            "code,name,areaCode,provinceCode,cityCode\n"
            '441900003,"东城街道",441900,44,4419\n630102001,"东关大街街道",630102,63,6301\n'
        ),
        "villages.csv": (
            "code,name,streetCode,provinceCode,cityCode,areaCode\n"
            '630102001001,"北关社区居民委员会",630102001,63,6301,630102\n'
        ),
        "HK-MO-TW.json": '{"香港特别行政区": {}, "澳门特别行政区": {}, "台湾省": {}}',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    rows = module.build_rows(tmp_path)
    assert rows == [
        ("440000", "广东省", 1, ""),
        ("441900", "东莞市", 2, "440000"),
        ("630000", "青海省", 1, ""),
        ("630100", "西宁市", 2, "630000"),
        ("630102", "城东区", 3, "630100"),
        ("630102001", "东关大街街道", 4, "630102"),
        ("630102001001", "北关社区居民委员会", 5, "630102001"),
        ("710000", "台湾省", 1, ""),
        ("810000", "香港特别行政区", 1, ""),
        ("820000", "澳门特别行政区", 1, ""),
    ]
