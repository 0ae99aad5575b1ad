"""What the archive page, its Excel export and the credit report print for a fact.

Two values are derived from the rules rather than printed as delivered, so that every page says
the same as the score:

- a platform loan event is worded from its days overdue (the same column the portrait's
  「近24个月平台贷款最长逾期天数」 reads, ``features.LOAN_DAYS_OVERDUE``): a repayment made 7 days
  late is 逾期还款, never 正常还款;
- a penalty's 公示截止日期 is ``publication.publication_end`` (the repair form shows the same).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from xinrong.credit.publication import PUBLICATION_PERIODS, REPAIRABLE_CATEGORY, publication_end
from xinrong.datahub.categories import CATEGORIES, DECIMAL
from xinrong.datahub.categories import display_values as category_display_values
from xinrong.datahub.models import Fact

LOAN_EVENT_LABELS = {
    "disbursed": N_("放款"),
    "repaid": N_("正常还款"),
    "repaid_late": N_("逾期还款"),
    "overdue": N_("逾期"),
    "defaulted": N_("违约"),
    "settled": N_("结清"),
}


def loan_days_overdue(values: dict[str, str]) -> int:
    """Return a loan event's days overdue (0 when not delivered)."""
    text = values.get("overdue_days", "") or "0"
    return int(text) if text.isdigit() else 0


def loan_event_text(values: dict[str, str]) -> str:
    """Return the Chinese wording of a loan event, a repayment's from its days overdue."""
    event = values.get("event", "")
    if event == "repaid" and loan_days_overdue(values) > 0:
        event = "repaid_late"
    return _(LOAN_EVENT_LABELS[event]) if event in LOAN_EVENT_LABELS else event


def fact_publication_end(fact: Fact) -> dt.date | None:
    """Return a penalty's publication end (None for other facts or without severity/date)."""
    if (
        fact.category != REPAIRABLE_CATEGORY
        or fact.grade not in PUBLICATION_PERIODS
        or fact.occurred_on is None
    ):
        return None
    return publication_end(
        severity=fact.grade, decided_on=fact.occurred_on, delivered=fact.behaviour_end
    )


def display_values(fact: Fact) -> dict[str, str]:
    """Return ``fact.values()`` as a reader sees them: choices by their labels, 是/否, and the
    derived values (loan event wording from its days overdue, publication end)."""
    raw = fact.values()
    values = category_display_values(fact.category, raw)
    if fact.category == "loan" and raw.get("event"):
        values["event"] = loan_event_text(raw)
    end = fact_publication_end(fact)
    if end is not None:
        values["publication_end"] = end.isoformat()
    return values


def readable_amounts(category: str, values: dict[str, str]) -> dict[str, str]:
    """Amounts with thousands separators, as a person reads them on a page (107,174.79).

    For pages only: exports and reports keep the numbers as they are.
    """
    spec = CATEGORIES.get(category)
    for f in spec.fields if spec else ():
        if f.kind == DECIMAL and values.get(f.key):
            with contextlib.suppress(InvalidOperation):
                values[f.key] = f"{Decimal(values[f.key]):,.2f}"
    return values
