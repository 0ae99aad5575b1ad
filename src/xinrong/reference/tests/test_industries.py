"""Industrial classification GB/T 4754-2017."""

from __future__ import annotations

import pytest

from xinrong.reference import industries

SECTIONS = {
    "A": ("农、林、牧、渔业", "01", "05"),
    "B": ("采矿业", "06", "12"),
    "C": ("制造业", "13", "43"),
    "D": ("电力、热力、燃气及水生产和供应业", "44", "46"),
    "E": ("建筑业", "47", "50"),
    "F": ("批发和零售业", "51", "52"),
    "G": ("交通运输、仓储和邮政业", "53", "60"),
    "H": ("住宿和餐饮业", "61", "62"),
    "I": ("信息传输、软件和信息技术服务业", "63", "65"),
    "J": ("金融业", "66", "69"),
    "K": ("房地产业", "70", "70"),
    "L": ("租赁和商务服务业", "71", "72"),
    "M": ("科学研究和技术服务业", "73", "75"),
    "N": ("水利、环境和公共设施管理业", "76", "79"),
    "O": ("居民服务、修理和其他服务业", "80", "82"),
    "P": ("教育", "83", "83"),
    "Q": ("卫生和社会工作", "84", "85"),
    "R": ("文化、体育和娱乐业", "86", "90"),
    "S": ("公共管理、社会保障和社会组织", "91", "96"),
    "T": ("国际组织", "97", "97"),
}


def test_there_are_20_sections_a_to_t():
    assert [s.code for s in industries.sections()] == list(SECTIONS)


@pytest.mark.parametrize(("letter", "expected"), SECTIONS.items())
def test_section_names_and_division_ranges(letter, expected):
    name, first, last = expected
    section = industries.get(letter)
    assert section is not None
    assert section.name == name
    assert section.is_section
    digits = [d.digits for d in industries.divisions(letter)]
    assert digits == [f"{n:02d}" for n in range(int(first), int(last) + 1)]


def test_there_are_97_divisions_numbered_01_to_97():
    assert [d.digits for d in industries.divisions()] == [f"{n:02d}" for n in range(1, 98)]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("01", "农业"),
        ("05", "农、林、牧、渔专业及辅助性活动"),
        ("11", "开采专业及辅助性活动"),
        ("13", "农副食品加工业"),
        ("25", "石油、煤炭及其他燃料加工业"),
        ("39", "计算机、通信和其他电子设备制造业"),
        ("51", "批发业"),
        ("52", "零售业"),
        ("58", "多式联运和运输代理业"),
        ("59", "装卸搬运和仓储业"),
        ("65", "软件和信息技术服务业"),
        ("70", "房地产业"),
        ("79", "土地管理业"),
        ("96", "基层群众自治组织及其他组织"),
        ("97", "国际组织"),
    ],
)
def test_division_names(code, name):
    division = industries.get(code)
    assert division is not None
    assert division.name == name


def test_every_entry_has_an_english_name():
    assert all(i.name_en for i in [*industries.sections(), *industries.divisions()])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C13", "C13"),
        ("13", "C13"),
        ("c13", "C13"),
        (" C 13 ", "C13"),
        ("C", "C"),
        ("1310", "C13"),
        ("7010", "K70"),
        ("K701", "K70"),
        ("L", "L"),
    ],
)
def test_get_accepts_letter_digit_and_class_codes(raw, expected):
    found = industries.get(raw)
    assert found is not None
    assert found.code == expected


@pytest.mark.parametrize("raw", ["", "1", "98", "00", "U", "Z", "C51", "13A", "CC13", "131010"])
def test_get_returns_none_for_invalid_codes(raw):
    assert industries.get(raw) is None
    assert not industries.is_valid(raw)


@pytest.mark.parametrize(
    ("raw", "stored"), [("13", "C13"), ("7010", "K7010"), ("c", "C"), ("L72", "L72")]
)
def test_normalize_keeps_given_detail(raw, stored):
    assert industries.normalize(raw) == stored


def test_normalize_rejects_invalid_code():
    with pytest.raises(ValueError):
        industries.normalize("C51")


def test_section_of():
    assert industries.section_of("13") == "C"
    assert industries.section_of("7020") == "K"
    assert industries.section_of("T") == "T"
    with pytest.raises(ValueError):
        industries.section_of("99")


def test_divisions_of_unknown_section_is_empty():
    assert industries.divisions("Z") == []
    assert [d.code for d in industries.divisions("f")] == ["F51", "F52"]


def test_choices_are_code_and_label():
    choices = industries.choices()
    assert len(choices) == 97
    assert ("C13", "C13 农副食品加工业") in choices


def test_grouped_choices_follow_sections():
    grouped = industries.grouped_choices()
    assert grouped[0][0] == "A 农、林、牧、渔业"
    assert sum(len(items) for _label, items in grouped) == 97
