"""Normalised names and addresses: one-code association by name (一码关联), shared addresses."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Legal-form variants that name the same kind of company.
_FORM_VARIANTS = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"))


def name_key(name: str) -> str:
    """Return the matching key of a name: half-width, no spaces, unified brackets and forms.

    "青海　鑫源（集团）有限责任公司" and "青海鑫源(集团)有限公司" share one key.
    """
    text = unicodedata.normalize("NFKC", name or "")
    text = _SPACES.sub("", text).replace("（", "(").replace("）", ")")
    text = text.replace("[", "(").replace("]", ")").replace("【", "(").replace("】", ")")
    for long, short in _FORM_VARIANTS:
        text = text.replace(long, short)
    return text.upper()


def address_key(address: str) -> str:
    """Return the matching key of an address: half-width, no whitespace, unified brackets.

    "西宁市城东区 八一路１号" and "西宁市城东区八一路1号" share one key; "" stays "".
    """
    text = unicodedata.normalize("NFKC", address or "")
    text = _SPACES.sub("", text).replace("（", "(").replace("）", ")")
    return text.upper()
