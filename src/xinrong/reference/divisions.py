"""Administrative divisions: GB/T 2260 codes (6 digits) and NBS statistical codes (9, 12 digits).

The data (``data/divisions.csv``, see ``data/SOURCES.md``) holds every province, prefecture and
county of the country and the townships and villages of Qinghai. It is loaded once per process.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

LEVEL_PROVINCE = 1
LEVEL_PREFECTURE = 2
LEVEL_COUNTY = 3
LEVEL_TOWNSHIP = 4
LEVEL_VILLAGE = 5

# Names are marked for extraction and translated where shown (see Division.level_name).
LEVEL_NAMES: dict[int, str] = {
    LEVEL_PROVINCE: N_("省级"),
    LEVEL_PREFECTURE: N_("地级"),
    LEVEL_COUNTY: N_("县级"),
    LEVEL_TOWNSHIP: N_("乡级"),
    LEVEL_VILLAGE: N_("村级"),
}

# Statistical placeholders that group counties but are not places of their own.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# Positions 3–8 of a USCC issued by a national-level registration authority.
NATIONAL_CODE = "100000"

# Length of the code prefix that all descendants of a division at each level share.
_PREFIX_LENGTHS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


@dataclass(frozen=True, slots=True)
class Division:
    """One division: code, official name, level (1 省级 … 5 村级) and parent code."""

    code: str
    name: str
    level: int
    parent_code: str | None

    @property
    def level_name(self) -> str:
        """Return the translated name of the level (省级, 地级, …)."""
        return gettext(LEVEL_NAMES[self.level])

    @property
    def is_placeholder(self) -> bool:
        """Return whether this is a statistical grouping such as 市辖区 rather than a place."""
        return self.name in PLACEHOLDER_NAMES


@dataclass(frozen=True, slots=True)
class _Index:
    by_code: dict[str, Division]
    children: dict[str | None, tuple[Division, ...]]


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Load divisions.csv once and index it by code and by parent."""
    text = resources.files("xinrong.reference").joinpath("data/divisions.csv").read_text("utf-8")
    by_code: dict[str, Division] = {}
    children: dict[str | None, list[Division]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        division = Division(
            code=row["code"],
            name=row["name"],
            level=int(row["level"]),
            parent_code=row["parent_code"] or None,
        )
        by_code[division.code] = division
        children.setdefault(division.parent_code, []).append(division)
    return _Index(
        by_code=by_code,
        children={key: tuple(sorted(rows, key=lambda d: d.code)) for key, rows in children.items()},
    )


def normalize_code(code: str) -> str:
    """Return the stored form of a division code ("63" → "630000", "6301" → "630100").

    Also accepts the 12-digit statistical form of higher levels ("630102000000" → "630102").
    """
    code = code.strip()
    if not code.isascii() or not code.isdigit():
        return code
    if len(code) == 2:
        return code + "0000"
    if len(code) == 4:
        return code + "00"
    if len(code) == 12 and code.endswith("000000"):
        return code[:6]
    if len(code) == 12 and code.endswith("000"):
        return code[:9]
    return code


def get(code: str) -> Division | None:
    """Return the division with this code, or None if it is not in today's list."""
    return _index().by_code.get(normalize_code(code))


def children(parent_code: str | None) -> list[Division]:
    """Return the direct children of a division (provinces for None), sorted by code."""
    key = None if parent_code is None else normalize_code(parent_code)
    return list(_index().children.get(key, ()))


def has_children(code: str) -> bool:
    """Return whether the division has any child divisions in the data."""
    return bool(_index().children.get(normalize_code(code)))


def ancestors(code: str) -> list[Division]:
    """Return the ancestors of a division, province first, excluding the division itself."""
    index = _index()
    division = index.by_code.get(normalize_code(code))
    chain: list[Division] = []
    while division is not None and division.parent_code is not None:
        division = index.by_code.get(division.parent_code)
        if division is not None:
            chain.append(division)
    chain.reverse()
    return chain


def full_name(code: str) -> str:
    """Return the full name, e.g. "青海省西宁市城东区", or "" for an unknown code.

    Statistical placeholders (市辖区, 县, 省直辖县级行政区划) are left out.
    """
    division = get(code)
    if division is None:
        return ""
    return "".join(d.name for d in [*ancestors(code), division] if not d.is_placeholder)


def province_exists(code2: str) -> bool:
    """Return whether a 2-digit province code (e.g. "63") is a province in the list."""
    if len(code2) != 2 or not code2.isdigit():
        return False
    division = _index().by_code.get(code2 + "0000")
    return division is not None and division.level == LEVEL_PROVINCE


def county_known(code6: str) -> bool:
    """Return whether a 6-digit GB/T 2260 code (province, prefecture or county) is in the list."""
    division = _index().by_code.get(code6) if len(code6) == 6 else None
    return division is not None and division.level <= LEVEL_COUNTY


def level_of(code: str) -> int | None:
    """Return the level of a code: from the data if known, else from its shape; None if malformed.

    By shape: 6 digits ending "0000" is 1, ending "00" is 2, otherwise 3; 9 digits is 4; 12 is 5.
    """
    code = normalize_code(code)
    division = _index().by_code.get(code)
    if division is not None:
        return division.level
    if not code.isascii() or not code.isdigit():
        return None
    if len(code) == 6:
        if code.endswith("0000"):
            return LEVEL_PROVINCE
        return LEVEL_PREFECTURE if code.endswith("00") else LEVEL_COUNTY
    return {9: LEVEL_TOWNSHIP, 12: LEVEL_VILLAGE}.get(len(code))


def descendants_prefix(code: str) -> str:
    """Return the prefix all descendants share ("63" for 630000, "6301" for 630100, …).

    Use it for region scoping: ``division_code__startswith=descendants_prefix(region)``.
    Raises ValueError for a malformed code.
    """
    level = level_of(code)
    if level is None:
        raise ValueError(f"not a division code: {code!r}")
    return normalize_code(code)[: _PREFIX_LENGTHS[level]]


def all_divisions() -> list[Division]:
    """Return every division in the data, sorted by code."""
    return sorted(_index().by_code.values(), key=lambda d: d.code)


PLATFORM_ROOT = "630000"  # the province the platform serves


def region_choices(root: str = PLATFORM_ROOT) -> list[tuple[str, str]]:
    """Return the province, its prefectures and their counties, by name, for a region picker."""
    top = get(root)
    out: list[tuple[str, str]] = [(top.code, top.name)] if top else []
    for pref in children(root):
        if not pref.is_placeholder:
            out.append((pref.code, pref.name))
        for county in children(pref.code):
            if not county.is_placeholder:
                out.append((county.code, f"{pref.name} · {county.name}"))
    return out
