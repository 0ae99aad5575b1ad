"""Unified social credit code (GB 32100-2015)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinrong.reference import divisions, uscc
from xinrong.reference.errors import ReferenceDataError

# The example printed in GB 32100-2015 and a real Beijing enterprise: both independent of our
# generator, so they check the algorithm against the standard.
STANDARD_EXAMPLE = "91350100M000100Y43"
BEIJING_ENTERPRISE = "91110000802100433B"

# Codes made with generate() and checked by hand against the weights (one per kind of entity).
QINGHAI_EXAMPLES = [
    ("92630102MAPJ96WP38", "9", "2", "个体工商户", "青海省西宁市城东区"),
    ("93632521MANQ8H7L9C", "9", "3", "农民专业合作社", "青海省海南藏族自治州共和县"),
    ("52630000756893486R", "5", "2", "民办非企业单位", "青海省"),
    ("N2630121813728365U", "N", "2", "村级集体经济组织", "青海省西宁市大通回族土族自治县"),
    ("12630100MA6ADDAJ2Q", "1", "2", "事业单位", "青海省西宁市"),
    ("91632801MAUD761P9F", "9", "1", "企业", "青海省海西蒙古族藏族自治州格尔木市"),
]
NATIONAL_OTHER = "Y11000005671256565"
ABOLISHED_DISTRICT = "91110103MA0U8UGA37"  # 110103 崇文区 was merged into 东城区 in 2010
ORG_CHECK_MISMATCH = "91630102074391500J"  # GB 11714 check of 07439150 is X, not 0

KNOWN_DIVISIONS = [d.code for d in divisions.all_divisions() if d.level <= divisions.LEVEL_COUNTY]
AUTHORITY_TYPES = [(a.code, t) for a in uscc.AUTHORITIES.values() for t, _name in a.entity_types]


def replace_at(code: str, index: int, char: str) -> str:
    """Return the code with the character at 0-based ``index`` replaced."""
    return code[:index] + char + code[index + 1 :]


def with_check(first17: str) -> str:
    """Return the first 17 characters completed with their correct check character."""
    return first17 + uscc.check_character(first17)


def test_standard_example_parses_into_its_parts():
    parsed = uscc.parse(STANDARD_EXAMPLE)
    assert parsed.authority_code == "9"
    assert parsed.authority_name == "工商"
    assert parsed.entity_type_code == "1"
    assert parsed.entity_type_name == "企业"
    assert parsed.division_code == "350100"
    assert parsed.division_name == "福建省福州市"
    assert parsed.organisation_code == "M000100Y4"
    assert parsed.check_char == "3"
    assert parsed.warnings == ()
    assert parsed.is_enterprise and not parsed.is_individual_business


def test_check_character_follows_weights_mod_31():
    first17 = BEIJING_ENTERPRISE[:17]
    total = sum(uscc.CHARSET.index(c) * w for c, w in zip(first17, uscc.WEIGHTS, strict=True))
    assert uscc.CHARSET[(31 - total % 31) % 31] == "B"
    assert uscc.check_character(first17) == "B"
    assert uscc.is_valid(BEIJING_ENTERPRISE)


def test_weights_are_powers_of_three_mod_31():
    powers = tuple(pow(3, i, 31) for i in range(17))
    assert powers == uscc.WEIGHTS


@pytest.mark.parametrize(("code", "authority", "entity", "entity_name", "place"), QINGHAI_EXAMPLES)
def test_qinghai_examples_parse(code, authority, entity, entity_name, place):
    parsed = uscc.parse(code)
    assert (parsed.authority_code, parsed.entity_type_code) == (authority, entity)
    assert parsed.entity_type_name == entity_name
    assert parsed.division_name == place
    assert parsed.warnings == ()


def test_individual_business_is_flagged():
    parsed = uscc.parse("92630102MAPJ96WP38")
    assert parsed.is_individual_business and not parsed.is_enterprise


def test_national_division_code_is_valid_without_warning():
    parsed = uscc.parse(NATIONAL_OTHER)
    assert parsed.division_code == "100000"
    assert parsed.authority_name == "其他"
    assert parsed.warnings == ()


def test_input_is_normalised_from_full_width_lower_case_and_blanks():
    messy = "  ９１３５０１００ｍ０００１００ｙ４３\u3000"
    assert uscc.normalize(messy) == STANDARD_EXAMPLE
    assert uscc.parse(messy).code == STANDARD_EXAMPLE


def test_as_dict_is_json_ready():
    data = uscc.parse(ABOLISHED_DISTRICT).as_dict()
    assert data["code"] == ABOLISHED_DISTRICT
    assert data["division_code"] == "110103"
    assert data["division_name"] == "北京市"  # nearest known ancestor
    assert isinstance(data["warnings"], list)
    assert len(data["warnings"]) == 1


def test_unknown_county_code_is_only_a_warning():
    parsed = uscc.parse(ABOLISHED_DISTRICT)
    assert len(parsed.warnings) == 1
    assert "110103" in parsed.warnings[0]
    assert "不在现行行政区划代码表中" in parsed.warnings[0]


def test_wrong_organisation_check_digit_is_only_a_warning():
    parsed = uscc.parse(ORG_CHECK_MISMATCH)
    assert len(parsed.warnings) == 1
    assert "GB 11714" in parsed.warnings[0]
    assert "应为 X，实际为 0" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("body", "check"),
    [("07439150", "X"), ("M000100Y", "4"), ("80210043", "3"), ("00000000", "0")],
)
def test_organisation_check_character(body, check):
    assert uscc.organisation_check_character(body) == check


def test_letters_in_organisation_code_are_valid():
    parsed = uscc.parse("91632801MAUD761P9F")
    assert parsed.organisation_code.startswith("MA")


def test_uscc_error_follows_the_error_contract_with_status_422():
    with pytest.raises(ReferenceDataError) as info:
        uscc.parse("123")
    assert isinstance(info.value, uscc.UsccError)
    assert info.value.status == 422


@pytest.mark.parametrize(("raw", "length"), [("", 0), (STANDARD_EXAMPLE[:17], 17), ("9" * 19, 19)])
def test_wrong_length(raw, length):
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(raw)
    assert info.value.code == "uscc_length"
    assert info.value.message == f"统一社会信用代码长度应为18位，实际为{length}位"
    assert info.value.extra == {"field": "uscc", "length": length}


@pytest.mark.parametrize("char", ["I", "O", "Z", "S", "V", "-", "。"])
def test_illegal_character_names_position_and_character(char):
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(replace_at(STANDARD_EXAMPLE, 9, char))
    assert info.value.code == "uscc_illegal_char"
    assert info.value.message == (
        f"统一社会信用代码第10位字符“{char}”不合法：只允许数字和除I、O、Z、S、V以外的大写字母"
    )
    assert info.value.extra == {"field": "uscc", "position": 10, "char": char}


def test_lower_case_forbidden_letter_is_reported_upper_case():
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(replace_at(STANDARD_EXAMPLE, 0, "o"))
    assert info.value.extra["position"] == 1
    assert info.value.extra["char"] == "O"


@pytest.mark.parametrize("authority", ["0", "B", "M", "X"])
def test_unknown_registration_authority(authority):
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(with_check(authority + STANDARD_EXAMPLE[1:17]))
    assert info.value.code == "uscc_authority"
    assert f"第1位登记管理部门代码“{authority}”不存在" in info.value.message
    assert info.value.extra["field"] == "uscc"


@pytest.mark.parametrize("prefix", ["94", "99", "22", "Y9", "A2", "NA"])
def test_entity_type_unknown_for_authority(prefix):
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(with_check(prefix + STANDARD_EXAMPLE[2:17]))
    assert info.value.code == "uscc_entity_type"
    assert f"第2位机构类别代码“{prefix[1]}”" in info.value.message
    assert info.value.extra["field"] == "uscc"


def test_entity_type_message_lists_allowed_types():
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(with_check("94" + STANDARD_EXAMPLE[2:17]))
    assert "工商" in info.value.message
    assert "1、2、3" in info.value.message


def test_division_with_letters_is_an_error():
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(with_check("9163A102" + STANDARD_EXAMPLE[8:17]))
    assert info.value.code == "uscc_division"
    assert "应为6位数字" in info.value.message
    assert info.value.extra == {"field": "uscc", "division_code": "63A102"}


@pytest.mark.parametrize("division", ["990102", "000000", "200000", "100100"])
def test_division_in_unknown_province_is_an_error(division):
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(with_check("91" + division + STANDARD_EXAMPLE[8:17]))
    assert info.value.code == "uscc_division"
    assert f"省级代码“{division[:2]}”不存在" in info.value.message


def test_wrong_check_character_names_expected_and_found():
    with pytest.raises(uscc.UsccError) as info:
        uscc.parse(STANDARD_EXAMPLE[:17] + "4")
    assert info.value.code == "uscc_check"
    assert info.value.message == "统一社会信用代码校验位错误：应为 3，实际为 4"
    assert info.value.extra == {"field": "uscc", "expected": "3", "found": "4"}


def test_is_valid():
    assert uscc.is_valid(STANDARD_EXAMPLE)
    assert uscc.is_valid(ORG_CHECK_MISMATCH)  # warnings do not make a code invalid
    assert not uscc.is_valid(STANDARD_EXAMPLE[:17] + "4")
    assert not uscc.is_valid("")


def test_check_character_rejects_bad_input():
    with pytest.raises(ValueError):
        uscc.check_character("123")
    with pytest.raises(ValueError):
        uscc.check_character("9135010OM000100Y4")


def test_generate_rejects_unknown_authority_and_bad_division():
    rng = random.Random(0)
    with pytest.raises(ValueError):
        uscc.generate(rng, division_code="630102", authority="9", entity_type="9")
    with pytest.raises(ValueError):
        uscc.generate(rng, division_code="6301")


def test_about_half_of_generated_codes_are_post_2015_ma_codes():
    rng = random.Random(7)
    codes = [uscc.generate(rng, division_code="630102") for _i in range(400)]
    share = sum(code[8:10] == "MA" for code in codes) / len(codes)
    assert 0.4 < share < 0.6


valid_codes = st.builds(
    lambda rng, division, kind: uscc.generate(
        rng, division_code=division, authority=kind[0], entity_type=kind[1]
    ),
    st.randoms(use_true_random=False),
    st.sampled_from([*KNOWN_DIVISIONS, "100000"]),
    st.sampled_from(AUTHORITY_TYPES),
)


@settings(max_examples=200, deadline=None)
@given(valid_codes)
def test_every_generated_code_parses_without_warnings(code):
    parsed = uscc.parse(code)
    assert parsed.code == code
    assert parsed.warnings == ()
    assert uscc.organisation_check_character(code[8:16]) == code[16]


@settings(max_examples=60, deadline=None)
@given(valid_codes)
def test_every_single_character_substitution_is_rejected(code):
    # Each position's weight is non-zero mod 31 and 31 is prime, so any change of one character
    # changes the weighted sum mod 31: the check character no longer matches.
    for index in range(uscc.LENGTH):
        for char in uscc.CHARSET:
            if char != code[index]:
                with pytest.raises(uscc.UsccError):
                    uscc.parse(replace_at(code, index, char))


@settings(max_examples=200, deadline=None)
@given(valid_codes)
def test_every_adjacent_transposition_in_positions_1_to_17_is_rejected(code):
    # Swapping a≠b at positions i, i+1 changes the sum by (a−b)(w[i+1]−w[i]) = (a−b)·2·w[i]
    # (weights are powers of 3), which is non-zero mod the prime 31: always detected.
    # Swaps involving the check character (positions 17/18) are not guaranteed to be detected.
    for index in range(16):
        if code[index] != code[index + 1]:
            swapped = code[:index] + code[index + 1] + code[index] + code[index + 2 :]
            with pytest.raises(uscc.UsccError):
                uscc.parse(swapped)
