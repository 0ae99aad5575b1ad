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

An enterprise may apply for credit repair once the minimum period has passed and it has
rectified. The periods count like the Civil Code's periods (民法典 第二百零一条、第二百零二条):
the decision day is not counted, and a period of months ends on the same-numbered day of the
last month (the month's last day when that month is shorter). The first day an application is
accepted is the day after the minimum period ends. A change of law changes this table only.

The table and the period arithmetic live in ``datahub.publication`` (ingestion validates
penalty rows with them); this module adds what credit repair needs.
"""

from __future__ import annotations

import datetime as dt

from xinrong.datahub.publication import (
    PUBLICATION_PERIODS,
    PublicationPeriod,
    add_months,
    maximum_period_end,
    minimum_period_end,
    publication_end,
)

__all__ = [
    "PUBLICATION_PERIODS",
    "REPAIRABLE_CATEGORY",
    "PublicationPeriod",
    "add_months",
    "maximum_period_end",
    "minimum_period_end",
    "publication_end",
    "repair_earliest_on",
]

# The fact category whose records can be repaired; its grade column holds the severity.
REPAIRABLE_CATEGORY = "penalty"


def repair_earliest_on(*, severity: str, decided_on: dt.date) -> dt.date:
    """Return the first day a repair application is accepted.

    With a minimum period, the day after it ends; without one (minor), the decision day.
    """
    period = PUBLICATION_PERIODS[severity]
    if period.min_months == 0:
        return decided_on
    return minimum_period_end(severity=severity, decided_on=decided_on) + dt.timedelta(days=1)
