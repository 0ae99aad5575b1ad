"""Unified social credit code (统一社会信用代码), GB 32100-2015.

Layout of the 18 characters:

====== =============================================================
1      registration authority (登记管理部门代码)
2      entity type within that authority (机构类别代码)
3–8    division code of the registration authority (GB/T 2260)
9–17   organisation code (主体标识码, GB 11714: 8 characters + check)
18     check character over positions 1–17 (ISO 7064 style, mod 31)
====== =============================================================

Division codes change over time, so an unknown county code is only a warning; so is a wrong
GB 11714 check digit in positions 9–17 (legacy codes carry such errors).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from xinrong.reference import divisions
from xinrong.reference.errors import ReferenceDataError

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {char: value for value, char in enumerate(CHARSET)}
# 3**(i-1) mod 31 for positions 1–17.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

# GB 11714 organisation code: 8 body characters (0-9 → 0–9, A-Z → 10–35) and a check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

FIELD = "uscc"


@dataclass(frozen=True, slots=True)
class RegistrationAuthority:
    """A registration authority (position 1) and the entity types it registers (position 2)."""

    code: str
    name: str
    entity_types: tuple[tuple[str, str], ...]

    def entity_type_name(self, code: str) -> str | None:
        """Return the untranslated name of an entity type of this authority, or None."""
        return dict(self.entity_types).get(code)


# GB 32100-2015 table 1 with later amendments (A 中央军委改革和编制办公室, N 农业).
# Names are marked for extraction and translated where shown.
AUTHORITIES: dict[str, RegistrationAuthority] = {
    a.code: a
    for a in (
        RegistrationAuthority(
            "1",
            N_("机构编制"),
            (
                ("1", N_("机关")),
                ("2", N_("事业单位")),
                ("3", N_("中央编办直接管理机构编制的群众团体")),
                ("9", N_("其他")),
            ),
        ),
        RegistrationAuthority("2", N_("外交"), (("1", N_("外国常驻新闻机构")), ("9", N_("其他")))),
        RegistrationAuthority(
            "3",
            N_("司法行政"),
            (
                ("1", N_("律师执业机构")),
                ("2", N_("公证处")),
                ("3", N_("基层法律服务所")),
                ("4", N_("司法鉴定机构")),
                ("5", N_("仲裁委员会")),
                ("9", N_("其他")),
            ),
        ),
        RegistrationAuthority("4", N_("文化"), (("1", N_("外国在华文化中心")), ("9", N_("其他")))),
        RegistrationAuthority(
            "5",
            N_("民政"),
            (
                ("1", N_("社会团体")),
                ("2", N_("民办非企业单位")),
                ("3", N_("基金会")),
                ("9", N_("其他")),
            ),
        ),
        RegistrationAuthority(
            "6",
            N_("旅游"),
            (
                ("1", N_("外国旅游部门常驻代表机构")),
                ("2", N_("港澳台地区旅游部门常驻内地（大陆）代表机构")),
                ("9", N_("其他")),
            ),
        ),
        RegistrationAuthority(
            "7", N_("宗教"), (("1", N_("宗教活动场所")), ("2", N_("宗教院校")), ("9", N_("其他")))
        ),
        RegistrationAuthority("8", N_("工会"), (("1", N_("基层工会")), ("9", N_("其他")))),
        RegistrationAuthority(
            "9",
            N_("工商"),
            (("1", N_("企业")), ("2", N_("个体工商户")), ("3", N_("农民专业合作社"))),
        ),
        RegistrationAuthority(
            "A",
            N_("中央军委改革和编制办公室"),
            (("1", N_("军队事业单位")), ("9", N_("其他"))),
        ),
        RegistrationAuthority(
            "N",
            N_("农业"),
            (
                ("1", N_("组级集体经济组织")),
                ("2", N_("村级集体经济组织")),
                ("3", N_("乡镇级集体经济组织")),
                ("9", N_("其他")),
            ),
        ),
        # 其他: entity types are not subdivided; the standard uses 1 throughout.
        RegistrationAuthority("Y", N_("其他"), (("1", N_("其他")),)),
    )
}


class UsccError(ReferenceDataError):
    """The unified social credit code is malformed; the message names the exact fault."""

    status = 422

    def __init__(self, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, {"field": FIELD, **(extra or {})})


@dataclass(frozen=True, slots=True)
class ParsedUscc:
    """A valid unified social credit code split into its parts, with data-quality warnings."""

    code: str
    authority_code: str
    authority_name: str
    entity_type_code: str
    entity_type_name: str
    division_code: str
    division_name: str
    organisation_code: str
    check_char: str
    warnings: tuple[str, ...] = ()

    @property
    def is_enterprise(self) -> bool:
        """Return whether the code was issued to an enterprise (工商 / 企业)."""
        return self.code[:2] == "91"

    @property
    def is_individual_business(self) -> bool:
        """Return whether the code was issued to an individual business (个体工商户)."""
        return self.code[:2] == "92"

    def as_dict(self) -> dict[str, Any]:
        """Return the parts as a JSON-ready dict."""
        return {
            "code": self.code,
            "authority_code": self.authority_code,
            "authority_name": self.authority_name,
            "entity_type_code": self.entity_type_code,
            "entity_type_name": self.entity_type_name,
            "division_code": self.division_code,
            "division_name": self.division_name,
            "organisation_code": self.organisation_code,
            "check_char": self.check_char,
            "warnings": list(self.warnings),
        }


def normalize(raw: str) -> str:
    """Strip blanks, turn full-width characters into half-width ones and upper-case."""
    chars = []
    for char in raw.strip().replace("\u3000", " ").strip():
        point = ord(char)
        if 0xFF01 <= point <= 0xFF5E:  # full-width ASCII block
            char = chr(point - 0xFEE0)
        chars.append(char)
    return "".join(chars).upper()


def check_character(first17: str) -> str:
    """Return the check character (position 18) for the first 17 characters.

    Raises ValueError unless ``first17`` is 17 characters of the code's character set.
    """
    if len(first17) != LENGTH - 1 or any(char not in _VALUES for char in first17):
        raise ValueError(f"need 17 characters of {CHARSET}: {first17!r}")
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def organisation_check_character(body8: str) -> str:
    """Return the GB 11714 check character ("0"–"9" or "X") of an 8-character organisation body.

    Raises ValueError unless ``body8`` is 8 characters from 0-9 and A-Z.
    """
    if len(body8) != 8 or not body8.isascii() or not body8.isalnum() or body8 != body8.upper():
        raise ValueError(f"need 8 characters of 0-9A-Z: {body8!r}")
    total = sum(_org_value(char) * w for char, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _division_name(division_code: str) -> str:
    """Return the full name of the division, or of its nearest known ancestor."""
    if division_code == divisions.NATIONAL_CODE:
        return _("全国（国家级登记管理机关）")
    for candidate in (division_code, division_code[:4] + "00", division_code[:2] + "0000"):
        name = divisions.full_name(candidate)
        if name:
            return name
    return ""


def parse(raw: str) -> ParsedUscc:
    """Parse and validate a code; raise UsccError naming the first fault found."""
    code = normalize(raw)
    if len(code) != LENGTH:
        raise UsccError(
            "uscc_length",
            _("统一社会信用代码长度应为18位，实际为%(n)d位") % {"n": len(code)},
            {"length": len(code)},
        )
    for position, char in enumerate(code, start=1):
        if char not in _VALUES:
            raise UsccError(
                "uscc_illegal_char",
                _(
                    "统一社会信用代码第%(position)d位字符“%(char)s”不合法："
                    "只允许数字和除I、O、Z、S、V以外的大写字母"
                )
                % {"position": position, "char": char},
                {"position": position, "char": char},
            )

    authority = AUTHORITIES.get(code[0])
    if authority is None:
        raise UsccError(
            "uscc_authority",
            _("统一社会信用代码第1位登记管理部门代码“%(char)s”不存在：应为 %(allowed)s 之一")
            % {"char": code[0], "allowed": "、".join(AUTHORITIES)},
            {"position": 1, "char": code[0]},
        )
    entity_type_name = authority.entity_type_name(code[1])
    if entity_type_name is None:
        allowed = "、".join(c for c, _name in authority.entity_types)
        raise UsccError(
            "uscc_entity_type",
            _(
                "统一社会信用代码第2位机构类别代码“%(char)s”不适用于登记管理部门"
                "“%(authority)s”（%(code)s）：应为 %(allowed)s 之一"
            )
            % {
                "char": code[1],
                "authority": _(authority.name),
                "code": authority.code,
                "allowed": allowed,
            },
            {"position": 2, "char": code[1]},
        )

    division_code = code[2:8]
    if not division_code.isdigit():
        raise UsccError(
            "uscc_division",
            _("统一社会信用代码第3–8位行政区划码“%(division)s”应为6位数字")
            % {"division": division_code},
            {"division_code": division_code},
        )
    if division_code != divisions.NATIONAL_CODE and not divisions.province_exists(
        division_code[:2]
    ):
        raise UsccError(
            "uscc_division",
            _("统一社会信用代码第3–8位行政区划码“%(division)s”的省级代码“%(province)s”不存在")
            % {"division": division_code, "province": division_code[:2]},
            {"division_code": division_code},
        )

    expected = check_character(code[:17])
    if code[17] != expected:
        raise UsccError(
            "uscc_check",
            _("统一社会信用代码校验位错误：应为 %(expected)s，实际为 %(found)s")
            % {"expected": expected, "found": code[17]},
            {"expected": expected, "found": code[17]},
        )

    warnings: list[str] = []
    if division_code != divisions.NATIONAL_CODE and not divisions.county_known(division_code):
        warnings.append(
            _(
                "第3–8位行政区划码“%(division)s”不在现行行政区划代码表中"
                "（区划代码会随时间调整，代码仍然有效）"
            )
            % {"division": division_code}
        )
    organisation_code = code[8:17]
    org_expected = organisation_check_character(organisation_code[:8])
    if organisation_code[8] != org_expected:
        warnings.append(
            _(
                "第9–17位组织机构代码“%(org)s”的校验位与 GB 11714 不符："
                "应为 %(expected)s，实际为 %(found)s（数据质量提示）"
            )
            % {"org": organisation_code, "expected": org_expected, "found": organisation_code[8]}
        )

    return ParsedUscc(
        code=code,
        authority_code=authority.code,
        authority_name=_(authority.name),
        entity_type_code=code[1],
        entity_type_name=_(entity_type_name),
        division_code=division_code,
        division_name=_division_name(division_code),
        organisation_code=organisation_code,
        check_char=code[17],
        warnings=tuple(warnings),
    )


def is_valid(raw: str) -> bool:
    """Return whether ``raw`` parses as a unified social credit code (warnings allowed)."""
    try:
        parse(raw)
    except UsccError:
        return False
    return True


def generate(
    rng: random.Random, *, division_code: str, authority: str = "9", entity_type: str = "1"
) -> str:
    """Return a random valid code whose organisation code has a correct GB 11714 check digit.

    About half the codes have a post-2015 style organisation code starting with "MA".
    Raises ValueError for an unknown authority/entity type or a malformed division code.
    """
    registry = AUTHORITIES.get(authority)
    if registry is None or registry.entity_type_name(entity_type) is None:
        raise ValueError(f"unknown authority/entity type: {authority}{entity_type}")
    if len(division_code) != 6 or not division_code.isdigit():
        raise ValueError(f"division code must be 6 digits: {division_code!r}")
    if rng.random() < 0.5:
        body = "MA" + "".join(rng.choice(CHARSET) for _i in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _i in range(8))
    first17 = authority + entity_type + division_code + body + organisation_check_character(body)
    return first17 + check_character(first17)
