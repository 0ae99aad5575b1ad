"""How the data hub's values read in other apps' pages (the security log's data-source events)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def categories_text(value: Any) -> str:
    """Return data categories by their names: "纳税信息、社保缴纳"."""
    from xinrong.datahub.categories import CATEGORIES

    codes = value if isinstance(value, list | tuple) else [value]
    return "、".join(_(CATEGORIES[c].name) if c in CATEGORIES else str(c) for c in codes) or _("无")


def cadence_text(value: Any) -> str:
    """Return an update cadence by its label ("每月")."""
    from xinrong.datahub.choices import Cadence

    return str(Cadence(value).label) if value in Cadence.values else str(value)


def register_security_readers() -> None:
    """Tell the security log how a data source's categories and cadence read."""
    from xinrong.accounts.presenters import detail_reader_register

    detail_reader_register("categories", categories_text)
    detail_reader_register("cadence", cadence_text)
