"""Publication periods of administrative-penalty records, by severity: the rules as data.

Source: 《失信行为纠正后的信用信息修复管理办法（试行）》(国家发展改革委令 2023年第58号) and
the credit-repair rules in force from 2026-04-01, as summarised in /work/shared/DOMAIN.md:

==========  ============================  =================  =================
severity    publication                   minimum period     maximum period
==========  ============================  =================  =================
minor       normally not published        none (0 months)    3 months
general     published                     3 months           1 year
serious     published                     1 year             3 years
==========  ============================  =================  =================

The periods count like the Civil Code's periods (民法典 第二百零一条、第二百零二条): the
decision day is not counted, and a period of months ends on the same-numbered day of the last
month (the month's last day when that month is shorter). A change of law changes this table only.

datahub validates delivered penalty rows with these rules (a publication end before the
decision or past the maximum period is refused) and credit computes the publication end every
page shows (``publication_end``) and the first day repair may be asked from them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class PublicationPeriod:
    """How long a penalty of one severity is published, and when repair may be asked."""

    severity: str
    label: str | Promise
    min_months: int
    max_months: int
    published: bool


PUBLICATION_PERIODS: dict[str, PublicationPeriod] = {
    p.severity: p
    for p in (
        PublicationPeriod("minor", _("轻微"), min_months=0, max_months=3, published=False),
        PublicationPeriod("general", _("一般"), min_months=3, max_months=12, published=True),
        PublicationPeriod("serious", _("严重"), min_months=12, max_months=36, published=True),
    )
}


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same-numbered day ``months`` later (the month's last day if it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def minimum_period_end(*, severity: str, decided_on: dt.date) -> dt.date:
    """Return the last day of the minimum publication period (the decision day if none)."""
    return add_months(decided_on, PUBLICATION_PERIODS[severity].min_months)


def maximum_period_end(*, severity: str, decided_on: dt.date) -> dt.date:
    """Return the last day of the maximum publication period."""
    return add_months(decided_on, PUBLICATION_PERIODS[severity].max_months)


def publication_end(
    *, severity: str, decided_on: dt.date, delivered: dt.date | None = None
) -> dt.date:
    """Return the 公示截止日期 of a penalty: the one computation every page and report uses.

    The date the department delivered holds when it lies within the law's bounds (not before
    the decision, not past the maximum period; ingestion refuses others); without one (or with
    an older out-of-bounds value) the maximum period's last day.
    """
    longest = maximum_period_end(severity=severity, decided_on=decided_on)
    if delivered is not None and decided_on <= delivered <= longest:
        return delivered
    return longest
