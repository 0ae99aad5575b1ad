"""Rules across the fields of one row, per category: what a single cell cannot say.

Delivered rows (uploads, the API, the platform's own events) and corrected facts (a dispute's
correction, ``services.quality.fact_values_check``) obey the same rules. Each rule reads the
row's canonical text values and returns (field key, Chinese rule) for every field it refuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils.translation import gettext as _

from xinrong.datahub.publication import PUBLICATION_PERIODS, maximum_period_end

RowRule = Callable[[dict[str, str]], list[tuple[str, str]]]


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def penalty_publication(values: dict[str, str]) -> list[tuple[str, str]]:
    """A penalty is published from its decision to at most the end of the maximum period of
    its severity (国家发展改革委令2023年第58号): the publication end lies in between."""
    decided = _date(values.get("decided_on"))
    end = _date(values.get("publication_end"))
    if decided is None or end is None:
        return []
    if end < decided:
        return [
            (
                "publication_end",
                _("公示截止日期不能早于处罚日期（%(d)s）") % {"d": decided.isoformat()},
            )
        ]
    period = PUBLICATION_PERIODS.get(values.get("severity", ""))
    if period is None:
        return []
    longest = maximum_period_end(severity=period.severity, decided_on=decided)
    if end > longest:
        return [
            (
                "publication_end",
                _("公示截止日期不能晚于 %(e)s：%(s)s行政处罚最长公示 %(n)d 个月，自处罚日期起算")
                % {"e": longest.isoformat(), "s": period.label, "n": period.max_months},
            )
        ]
    return []


ROW_RULES: dict[str, tuple[tuple[tuple[str, ...], RowRule], ...]] = {
    "penalty": ((("decided_on", "publication_end", "severity"), penalty_publication),),
}


def fields_of(category: str) -> tuple[str, ...]:
    """Return the fields the category's row rules read (empty: no row rule)."""
    keys: list[str] = []
    for fields, _rule in ROW_RULES.get(category, ()):
        keys += [k for k in fields if k not in keys]
    return tuple(keys)


def row_errors(category: str, values: dict[str, str]) -> list[tuple[str, str]]:
    """Return (field key, rule) for each field of the row a row rule refuses."""
    return [error for _fields, rule in ROW_RULES.get(category, ()) for error in rule(values)]
