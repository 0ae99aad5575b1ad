"""Masking of personal information for display (common practice following JR/T 0171-2020).

Every helper accepts None or "" and returns "". Inputs shorter than the normal form reveal fewer
characters, never more: they keep at most half of their characters and mask at least as many as
the normal form does.
"""

from __future__ import annotations

import re

MASK = "*"

# Common compound surnames (复姓); the masked name keeps both characters.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "太史", "端木", "上官", "司马", "东方", "独孤", "南宫", "万俟", "闻人",
        "夏侯", "诸葛", "尉迟", "公羊", "赫连", "澹台", "皇甫", "宗政", "濮阳", "公冶",
        "太叔", "申屠", "公孙", "慕容", "仲孙", "钟离", "长孙", "宇文", "司徒", "鲜于",
        "司空", "闾丘", "子车", "亓官", "司寇", "巫马", "公西", "颛孙", "壤驷", "公良",
        "漆雕", "乐正", "宰父", "谷梁", "拓跋", "夹谷", "轩辕", "令狐", "段干", "百里",
        "呼延", "东郭", "南门", "羊舌", "微生", "梁丘", "左丘", "东门", "西门", "第五",
        "呼衍", "单于", "即墨", "淳于", "相里", "申叔",
    }
)  # fmt: skip

_SEPARATORS = re.compile(r"[\s\-]")
_MAINLAND_MOBILE = re.compile(r"^(\+?86)?(1\d{10})$")


def _mask_middle(value: str, keep_start: int, keep_end: int, *, normal_length: int) -> str:
    """Keep the first and last characters; shorter-than-normal input keeps fewer of them."""
    must_mask = normal_length - keep_start - keep_end
    if len(value) < normal_length:
        must_mask = min(len(value), max(must_mask, (len(value) + 1) // 2))
    while keep_start + keep_end > len(value) - must_mask:
        if keep_start >= keep_end and keep_start > 0:
            keep_start -= 1
        else:
            keep_end -= 1
    masked = len(value) - keep_start - keep_end
    return value[:keep_start] + MASK * masked + value[len(value) - keep_end :]


def mask_id_number(value: str | None) -> str:
    """Mask a resident ID number keeping the first 3 and last 4: 630***********1234.

    The 15-digit legacy form keeps the same characters (630********1234).
    """
    if not value:
        return ""
    return _mask_middle(_SEPARATORS.sub("", value).upper(), 3, 4, normal_length=15)


def mask_phone(value: str | None) -> str:
    """Mask a phone number keeping the first 3 and last 4 digits: 138****5678.

    A "+86"/"86" prefix of a mainland mobile number is kept as given.
    """
    if not value:
        return ""
    compact = _SEPARATORS.sub("", value)
    match = _MAINLAND_MOBILE.match(compact)
    if match:
        return (match.group(1) or "") + _mask_middle(match.group(2), 3, 4, normal_length=11)
    return _mask_middle(compact, 3, 4, normal_length=11)


def mask_bank_card(value: str | None) -> str:
    """Mask a bank card number keeping the first 6 and last 4 digits: 622202******1234."""
    if not value:
        return ""
    return _mask_middle(_SEPARATORS.sub("", value), 6, 4, normal_length=16)


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\U00020000" <= char <= "\U0003134f"


def mask_name(value: str | None) -> str:
    """Mask a person's name: 张三 → 张*, 欧阳娜娜 → 欧阳**, John Smith → J*.

    Chinese names keep the surname (both characters of a known compound surname when the name
    is longer than two characters); a one-character name is fully masked. Other names keep the
    first letter only.
    """
    if not value:
        return ""
    name = value.strip()
    if not name:
        return ""
    if len(name) == 1:
        return MASK
    if _is_cjk(name[0]):
        keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
        return name[:keep] + MASK * (len(name) - keep)
    return name[0] + MASK
