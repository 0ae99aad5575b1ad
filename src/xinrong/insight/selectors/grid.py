"""Reads of the 甘霖 grid programme: visits, the gap between visits and files built (by officer,
bank, community and week, with the reasons), and the loans issued under the programme.

Every figure is one grouped query over the rows the user may see (``restrict``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.insight.models import GridVisit, MerchantFile, RefusalReason, VisitResult
from xinrong.marketplace.models import Loan
from xinrong.reference import divisions

BY_OFFICER, BY_ORGANISATION, BY_COMMUNITY, BY_WEEK = "officer", "organisation", "community", "week"
GROUPINGS = (BY_OFFICER, BY_ORGANISATION, BY_COMMUNITY, BY_WEEK)
ZERO = Decimal("0.00")


def grouping_label(by: str) -> str:
    """The Chinese name of a grouping of the gap report."""
    return {
        BY_OFFICER: _("按网格员"),
        BY_ORGANISATION: _("按银行/单位"),
        BY_COMMUNITY: _("按社区/村"),
        BY_WEEK: _("按周"),
    }[by]


def visits_visible(*, user: User) -> QuerySet[GridVisit]:
    """The visits ``user`` may see, newest first, with the officer, unit and file."""
    return (
        GridVisit.objects.restrict(user)
        .select_related("officer", "organisation", "file", "file__entity")
        .order_by("-visited_on", "-id")
    )


def visit_get(*, user: User, pk: int) -> GridVisit:
    """One visit the user may see (404 otherwise)."""
    return get_object_or_404(visits_visible(user=user), pk=pk)


def community_name(code: str) -> str:
    """The community/village with its township and county ("城东区 · 东关大街街道 · 北关社区")."""
    chain = [d for d in divisions.ancestors(code) if d.level >= 3 and not d.is_placeholder]
    own = divisions.get(code)
    names = [d.name for d in chain if d.code != code] + ([own.name] if own else [code])
    return " · ".join(names)


@dataclass
class GapRow:
    """One group of the gap report: visits, consents, files built, and why files were not built."""

    key: Any
    label: str
    visits: int = 0
    intents: int = 0
    consents: int = 0
    files: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def gap(self) -> int:
        """Visits that did not (yet) lead to a file."""
        return self.visits - self.files

    @property
    def waiting(self) -> int:
        """Consenting visits whose file is not built yet."""
        return self.consents - self.files

    @property
    def file_rate(self) -> str:
        """Files built per visit, as a percentage with one decimal ("—" without visits)."""
        if not self.visits:
            return "—"
        return f"{Decimal(self.files * 100) / self.visits:.1f}%"


def _reason_counts() -> dict[str, Any]:
    return {
        f"r_{code}": Count("id", filter=Q(refusal_reason=code)) for code in RefusalReason.values
    }


def gap_report(
    *,
    user: User,
    by: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[list[GapRow], GapRow]:
    """Visits against files built, grouped ``by`` officer, organisation, community or week (one
    grouped query), with the refusal reasons; also the total row."""
    if by not in GROUPINGS:
        raise ValueError(by)
    qs = GridVisit.objects.restrict(user)
    if since is not None:
        qs = qs.filter(visited_on__gte=since)
    if until is not None:
        qs = qs.filter(visited_on__lte=until)
    keys: dict[str, Any] = {
        BY_OFFICER: F("officer_id"),
        BY_ORGANISATION: F("organisation_id"),
        BY_COMMUNITY: F("division_code"),
        BY_WEEK: TruncWeek("visited_on"),
    }
    key_expr = {"k": keys[by]}
    measures: dict[str, Any] = {
        "visits": Count("id"),
        "intents": Count("id", filter=Q(result=VisitResult.INTENT)),
        "consents": Count("id", filter=Q(consent=True)),
        "files": Count("file"),
        **_reason_counts(),
    }
    grouped = list(
        qs.annotate(**key_expr).values("k").annotate(**measures).order_by("k")  # type: ignore[misc]
    )
    labels = _labels(by, [g["k"] for g in grouped])
    rows = [_gap_row(g["k"], labels.get(g["k"], str(g["k"])), g) for g in grouped]
    if by != BY_WEEK:
        rows.sort(key=lambda r: (-r.gap, r.label))
    else:
        rows.reverse()  # newest week first
    total = GapRow(key=None, label=_("合计"))
    for r in rows:
        total.visits += r.visits
        total.intents += r.intents
        total.consents += r.consents
        total.files += r.files
        for code, n in r.reasons.items():
            total.reasons[code] = total.reasons.get(code, 0) + n
    if not rows:
        total.reasons = dict.fromkeys(RefusalReason.values, 0)
    return rows, total


def _gap_row(key: Any, label: str, g: dict[str, Any]) -> GapRow:
    return GapRow(
        key=key,
        label=label,
        visits=g["visits"],
        intents=g["intents"],
        consents=g["consents"],
        files=g["files"],
        reasons={code: g[f"r_{code}"] for code in RefusalReason.values},
    )


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    if by == BY_OFFICER:
        users = User.objects.filter(pk__in=keys).select_related("organisation")
        return {u.pk: f"{u}（{u.organisation.name if u.organisation else ''}）" for u in users}
    if by == BY_ORGANISATION:
        from xinrong.accounts.models import Organisation

        return dict(Organisation.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == BY_COMMUNITY:
        return {k: community_name(k) for k in keys}
    out: dict[Any, str] = {}
    for k in keys:
        day = k.date() if isinstance(k, dt.datetime) else k
        out[k] = _("%(start)s 至 %(end)s") % {
            "start": day.isoformat(),
            "end": (day + dt.timedelta(days=6)).isoformat(),
        }
    return out


def reason_columns() -> list[tuple[str, str]]:
    """The refusal reasons as (code, Chinese name), in the report's column order."""
    return [(code, str(label)) for code, label in RefusalReason.choices]


def programme_loans(*, user: User) -> QuerySet[Loan]:
    """Loans of entities whose credit file was built from a visit the user may see, disbursed on
    or after the day of that visit (one query: the files are an ``EXISTS`` subquery)."""
    files = MerchantFile.objects.restrict(user).filter(
        entity_id=OuterRef("entity_id"), visit__visited_on__lte=OuterRef("disbursed_on")
    )
    return (
        Loan.objects.filter(Exists(files))
        .select_related("entity", "institution")
        .order_by("-disbursed_on", "-id")
    )


def programme_loan_totals(*, user: User) -> dict[str, Any]:
    """Count and amount of the loans issued under the programme."""
    totals = programme_loans(user=user).aggregate(
        count=Count("id"), amount=Coalesce(Sum("principal"), ZERO)
    )
    return {"count": totals["count"], "amount": totals["amount"]}


def officer_home(*, user: User) -> dict[str, Any]:
    """The field officer's own figures: today's and this week's visits, files built, waiting."""
    today = timezone.localdate()
    week_start = today - dt.timedelta(days=today.weekday())
    mine = GridVisit.objects.filter(officer=user)
    figures = mine.aggregate(
        today=Count("id", filter=Q(visited_on=today)),
        week=Count("id", filter=Q(visited_on__gte=week_start)),
        total=Count("id"),
        files=Count("file"),
        waiting=Count("id", filter=Q(consent=True, file__isnull=True)),
    )
    waiting = list(mine.filter(consent=True, file__isnull=True).order_by("-visited_on", "-id")[:5])
    recent = list(mine.select_related("file").order_by("-visited_on", "-id")[:5])
    return {"figures": figures, "waiting": waiting, "recent": recent, "today": today}


def grid_card(*, user: User) -> dict[str, Any] | None:
    """The 甘霖工程 card of a department's or the operator's home: visits, files, the gap and the
    programme's loans in the user's region (None when the user may not see the report)."""
    from xinrong.accounts.permissions import can

    if not can(user, "insight.grid_report_view"):
        return None
    _rows, total = gap_report(user=user, by=BY_ORGANISATION)
    card: dict[str, Any] = {"total": total, "loans": None}
    if can(user, "insight.grid_loans_view"):
        card["loans"] = programme_loan_totals(user=user)
    return card
