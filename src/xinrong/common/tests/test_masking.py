"""Masking of personal information."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinrong.common import masking

MASKERS = [masking.mask_id_number, masking.mask_phone, masking.mask_bank_card, masking.mask_name]


@pytest.mark.parametrize("mask", MASKERS)
@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_input_gives_empty_output(mask, value):
    assert mask(value).strip("*") == ""


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("630102199001011234", "630***********1234"),
        ("63010219900101123x", "630***********123X"),
        ("630102900101123", "630********1123"),  # 15-digit legacy number
        ("6301 0219 9001 0112 34", "630***********1234"),
    ],
)
def test_mask_id_number_keeps_first_3_and_last_4(value, masked):
    assert masking.mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("0971-8123456", "097****3456"),
        ("12345", "****5"),
        ("1", "*"),
    ],
)
def test_mask_phone_keeps_first_3_and_last_4(value, masked):
    assert masking.mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("6222021234567890", "622202******7890"),
        ("6222 0212 3456 7890 123", "622202*********0123"),
        ("62220212", "6******2"),
    ],
)
def test_mask_bank_card_keeps_first_6_and_last_4(value, masked):
    assert masking.mask_bank_card(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("李小明", "李**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马光", "司马*"),
        ("欧阳", "欧*"),  # too short to be compound surname plus given name
        ("张", "*"),
        (" 王五 ", "王*"),
        ("买买提·艾力", "买*****"),
        ("John Smith", "J*"),
        ("Li", "L*"),
    ],
)
def test_mask_name_keeps_surname_only(value, masked):
    assert masking.mask_name(value) == masked


@pytest.mark.parametrize(
    ("mask", "keep_start", "keep_end", "normal_length"),
    [
        (masking.mask_id_number, 3, 4, 15),
        (masking.mask_phone, 3, 4, 11),
        (masking.mask_bank_card, 6, 4, 16),
    ],
)
@settings(max_examples=100, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=25))
def test_numbers_never_reveal_more_than_the_rule(mask, keep_start, keep_end, normal_length, digits):
    masked = mask(digits)
    assert len(masked) == len(digits)
    shown = [i for i, char in enumerate(masked) if char != "*"]
    assert all(masked[i] == digits[i] for i in shown)
    head = len(masked) - len(masked.lstrip("0123456789+"))
    tail = len(masked) - len(masked.rstrip("0123456789"))
    # a mainland mobile's "86"/"+86" country prefix is kept as given, before the 3 digits shown
    mobile = masking._MAINLAND_MOBILE.match(digits) if mask is masking.mask_phone else None
    prefix = len(mobile.group(1) or "") if mobile else 0
    assert head <= keep_start + prefix and tail <= keep_end
    if len(digits) < normal_length:
        assert len(shown) <= len(digits) // 2
