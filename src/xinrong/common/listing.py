"""The shared list toolkit: declarative filters, totals over the filtered set and Excel export.

A list view declares its filters once, e.g.::

    FILTERS = (
        SearchFilter("q", _("关键词"), ["entity__name__icontains", "entity__uscc__iexact"]),
        ChoiceFilter("status", _("状态"), ApplicationStatus.choices),
        DateRangeFilter("submitted", _("提交日期"), "submitted_at"),
        AmountRangeFilter("amount", _("金额（元）"), "amount"),
        RegionFilter("region", _("所在地区"), "entity__division_code"),
    )

then ``listing = list_build(request, qs, FILTERS, sums={"amount": _("申请金额")})`` returns the
filtered queryset, the page (``paginate``), the totals (count and Decimal sums over the *whole*
filtered set, one aggregate query), the messages for bad filter values (Chinese, naming the
field; a bad value is ignored, never a 500) and what was searched, for the empty state. The
template includes ``web/_list_toolbar.html`` (filters, totals, export link) and
``web/_empty.html``; paging links keep the filters (``{% querystring %}``).

The export view of a list runs the same scoped queryset through the same filters and
:func:`xlsx_export` writes exactly those rows (``common.exports``): Chinese headers, choice
labels instead of stored values, amounts as numbers and dates as dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django import forms
from django.db.models import Count, Q, QuerySet, Sum
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.common import pagination
from xinrong.common.exports import Sheet, xlsx_response
from xinrong.common.pagination import paginate
from xinrong.common.templatetags.money import yuan_text
from xinrong.reference import divisions

# The province whose prefectures and counties the region filter offers (the platform's).
REGION_ROOT = "630000"
SEARCH_MAX_LENGTH = 100

Label = Any  # a str or a lazy translation


def _text(value: Any) -> str:
    return str(value) if value is not None else ""


class _CleanText(forms.CharField):
    """Text that refuses NUL (PostgreSQL cannot compare it) with a Chinese message."""

    def to_python(self, value: Any) -> str:
        out = str(super().to_python(value) or "")
        if "\x00" in out:
            raise forms.ValidationError(_("不能包含空字符"), code="null")
        return str(out)


# ---------------------------------------------------------------- filters


class Filter:
    """One filter: the form fields it reads, how it narrows a queryset, how it reads back."""

    def __init__(self, name: str, label: Label) -> None:
        self.name = name
        self.label = label

    def fields(self) -> dict[str, forms.Field]:  # pragma: no cover - abstract
        raise NotImplementedError

    def apply(self, qs: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        raise NotImplementedError  # pragma: no cover

    def describe(self, data: Mapping[str, Any]) -> str:
        """Return what this filter selects in words ("" when it is not set)."""
        raise NotImplementedError  # pragma: no cover

    def check(self, data: Mapping[str, Any]) -> str:
        """Return a message when the values together make no sense (e.g. from > to)."""
        return ""


class SearchFilter(Filter):
    """A keyword matched against several lookups (``name__icontains``, ``uscc__iexact``…)."""

    def __init__(
        self, name: str, label: Label, lookups: Sequence[str], placeholder: Label = ""
    ) -> None:
        super().__init__(name, label)
        self.lookups = list(lookups)
        self.placeholder = placeholder

    def fields(self) -> dict[str, forms.Field]:
        widget = forms.TextInput(attrs={"placeholder": self.placeholder, "type": "search"})
        return {
            self.name: _CleanText(
                label=self.label,
                required=False,
                max_length=SEARCH_MAX_LENGTH,
                widget=widget,
                error_messages={"max_length": _("最多 %(n)d 个字") % {"n": SEARCH_MAX_LENGTH}},
            )
        }

    def apply(self, qs: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        text = (data.get(self.name) or "").strip()
        if not text:
            return qs
        return qs.filter(reduce(or_, (Q(**{lookup: text}) for lookup in self.lookups)))

    def describe(self, data: Mapping[str, Any]) -> str:
        text = (data.get(self.name) or "").strip()
        return f"{self.label}“{text}”" if text else ""


class ChoiceFilter(Filter):
    """One value out of a list of choices (stored value → label), matched on ``lookup``."""

    def __init__(
        self,
        name: str,
        label: Label,
        choices: Iterable[tuple[Any, Label]] | Callable[[], Iterable[tuple[Any, Label]]],
        lookup: str | None = None,
        *,
        apply: Callable[[QuerySet[Any], str], QuerySet[Any]] | None = None,
    ) -> None:
        super().__init__(name, label)
        self._choices = choices
        self.lookup = lookup or name
        self._apply = apply

    def choices(self) -> list[tuple[str, Label]]:
        items = self._choices() if callable(self._choices) else self._choices
        return [(str(v), lbl) for v, lbl in items]

    def fields(self) -> dict[str, forms.Field]:
        return {
            self.name: forms.ChoiceField(
                label=self.label,
                required=False,
                choices=[("", _("全部")), *self.choices()],
                error_messages={"invalid_choice": _("“%(value)s”不是可选的值")},
            )
        }

    def apply(self, qs: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        value = data.get(self.name)
        if not value:
            return qs
        if self._apply is not None:
            return self._apply(qs, value)
        return qs.filter(**{self.lookup: value})

    def describe(self, data: Mapping[str, Any]) -> str:
        value = data.get(self.name)
        if not value:
            return ""
        label = dict(self.choices()).get(str(value), value)
        return f"{self.label}：{label}"


class RegionFilter(ChoiceFilter):
    """A division (by name) whose code prefixes the row's ``field`` (all its descendants)."""

    def __init__(self, name: str, label: Label, field_path: str) -> None:
        super().__init__(name, label, region_choices, f"{field_path}__startswith")

    def apply(self, qs: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        value = data.get(self.name)
        if not value:
            return qs
        return qs.filter(**{self.lookup: divisions.descendants_prefix(value)})


def region_choices() -> list[tuple[str, str]]:
    """Return the platform's province, its prefectures and their counties, by name."""
    root = divisions.get(REGION_ROOT)
    out: list[tuple[str, str]] = [(root.code, root.name)] if root else []
    for pref in divisions.children(REGION_ROOT):
        if not pref.is_placeholder:
            out.append((pref.code, pref.name))
        for county in divisions.children(pref.code):
            if not county.is_placeholder:
                out.append((county.code, f"{pref.name} · {county.name}"))
    return out


class BooleanFilter(Filter):
    """A check box; when ticked the queryset is narrowed by ``q``."""

    def __init__(self, name: str, label: Label, q: Q | Callable[[], Q]) -> None:
        super().__init__(name, label)
        self.q = q

    def fields(self) -> dict[str, forms.Field]:
        return {self.name: forms.BooleanField(label=self.label, required=False)}

    def apply(self, qs: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        if not data.get(self.name):
            return qs
        return qs.filter(self.q() if callable(self.q) else self.q)

    def describe(self, data: Mapping[str, Any]) -> str:
        return str(self.label) if data.get(self.name) else ""


class _RangeFilter(Filter):
    low_suffix = "_min"
    high_suffix = "_max"
    low_word: Label = gettext_lazy("不低于")
    high_word: Label = gettext_lazy("不高于")

    def __init__(self, name: str, label: Label, field_path: str) -> None:
        super().__init__(name, label)
        self.field_path = field_path

    @property
    def low(self) -> str:
        return self.name + self.low_suffix

    @property
    def high(self) -> str:
        return self.name + self.high_suffix

    def _field(self, label: str) -> forms.Field:  # pragma: no cover - abstract
        raise NotImplementedError

    def fields(self) -> dict[str, forms.Field]:
        return {
            self.low: self._field(f"{self.label}{self.low_word}"),
            self.high: self._field(f"{self.label}{self.high_word}"),
        }

    def _lookups(self) -> tuple[str, str]:
        return f"{self.field_path}__gte", f"{self.field_path}__lte"

    def apply(self, qs: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        ge, le = self._lookups()
        if data.get(self.low) is not None:
            qs = qs.filter(**{ge: data[self.low]})
        if data.get(self.high) is not None:
            qs = qs.filter(**{le: data[self.high]})
        return qs

    def _show(self, value: Any) -> str:
        return str(value)

    def describe(self, data: Mapping[str, Any]) -> str:
        parts = []
        if data.get(self.low) is not None:
            parts.append(f"{self.low_word} {self._show(data[self.low])}")
        if data.get(self.high) is not None:
            parts.append(f"{self.high_word} {self._show(data[self.high])}")
        return f"{self.label}{'，'.join(parts)}" if parts else ""

    def check(self, data: Mapping[str, Any]) -> str:
        lo, hi = data.get(self.low), data.get(self.high)
        if lo is not None and hi is not None and lo > hi:
            return _("%(f)s：下限不能大于上限") % {"f": self.label}
        return ""


class AmountRangeFilter(_RangeFilter):
    """A Decimal range (``<name>_min`` / ``<name>_max``) on an amount in yuan."""

    def _field(self, label: str) -> forms.Field:
        return forms.DecimalField(
            label=label,
            required=False,
            min_value=0,
            max_digits=18,
            decimal_places=2,
            localize=False,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        )  # its messages are every number field's (common.forms), naming the field

    def _show(self, value: Any) -> str:
        return yuan_text(value)


class DateRangeFilter(_RangeFilter):
    """A date range (``<name>_from`` / ``<name>_to``, both days included), Beijing days on a
    datetime field."""

    low_suffix = "_from"
    high_suffix = "_to"
    low_word = gettext_lazy("自")
    high_word = gettext_lazy("至")

    def __init__(self, name: str, label: Label, field_path: str, *, datetime: bool = True) -> None:
        super().__init__(name, label, field_path)
        self.datetime = datetime

    def _field(self, label: str) -> forms.Field:
        return forms.DateField(
            label=label,
            required=False,
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": _("请输入有效日期，如 2026-01-31")},
        )

    def _lookups(self) -> tuple[str, str]:
        if self.datetime:
            return f"{self.field_path}__date__gte", f"{self.field_path}__date__lte"
        return super()._lookups()

    def _show(self, value: Any) -> str:
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    def check(self, data: Mapping[str, Any]) -> str:
        lo, hi = data.get(self.low), data.get(self.high)
        if lo is not None and hi is not None and lo > hi:
            return _("%(f)s：开始日期不能晚于结束日期") % {"f": self.label}
        return ""


class FilterSet:
    """Filters bound to the request's query: a form to show, valid values, messages."""

    def __init__(self, data: Mapping[str, Any], filters: Sequence[Filter]) -> None:
        self.filters = list(filters)
        fields: dict[str, forms.Field] = {}
        for f in self.filters:
            fields.update(f.fields())
        form_class = type("ListFilterForm", (forms.Form,), dict(fields))
        present = {k: data.get(k) for k in fields if data.get(k) not in (None, "")}
        self.form: forms.Form = form_class(present or None, auto_id="f-%s")
        self.messages: list[str] = []
        self.values: dict[str, Any] = {}
        if present:
            self.form.is_valid()
            self.values = {k: v for k, v in self.form.cleaned_data.items() if k in present}
            for name, errors in self.form.errors.items():
                label = fields[name].label if name in fields else name
                for e in errors:  # a message that names its field is not prefixed again
                    self.messages.append(e if str(label) in e else f"{label}：{e}")
        for f in self.filters:
            msg = f.check(self.values)
            if msg:
                self.messages.append(msg)
                for k in f.fields():
                    self.values.pop(k, None)

    def apply(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        """Return the queryset narrowed by every valid filter value."""
        for f in self.filters:
            qs = f.apply(qs, self.values)
        return qs

    @property
    def active(self) -> list[str]:
        """Return what is being searched, one phrase per filter in use."""
        return [d for d in (f.describe(self.values) for f in self.filters) if d]

    @property
    def is_filtered(self) -> bool:
        return bool(self.values) or bool(self.messages)


# ---------------------------------------------------------------- totals


@dataclass(frozen=True)
class Total:
    label: str
    value: Any
    money: bool = False


def list_totals(
    qs: QuerySet[Any],
    sums: Mapping[str, Label] | None = None,
    *,
    quantities: Mapping[str, Label] | None = None,
) -> tuple[int, list[Total]]:
    """Return the number of rows and each sum over the whole queryset (one query): ``sums`` are
    amounts in yuan (Decimal), ``quantities`` whole numbers (rows, days)."""
    paths = [(p, lbl, True) for p, lbl in (sums or {}).items()]
    paths += [(p, lbl, False) for p, lbl in (quantities or {}).items()]
    aggregates: dict[str, Any] = {"_n": Count("pk")}
    for i, (path, _lbl, _money) in enumerate(paths):
        aggregates[f"_s{i}"] = Sum(path)
    row = qs.order_by().aggregate(**aggregates)
    totals = [
        Total(str(label), row[f"_s{i}"] or (Decimal("0.00") if money else 0), money=money)
        for i, (_p, label, money) in enumerate(paths)
    ]
    return int(row["_n"] or 0), totals


# ---------------------------------------------------------------- the list


@dataclass
class Listing:
    """Everything a list template needs: page, filters, totals, export link."""

    filterset: FilterSet
    queryset: QuerySet[Any]
    page: Any
    count: int
    totals: list[Total]
    noun: str
    export_url: str = ""
    hidden: list[tuple[str, str]] = field(default_factory=list)  # kept when filtering again

    @property
    def form(self) -> forms.Form:
        return self.filterset.form

    @property
    def messages(self) -> list[str]:
        return self.filterset.messages

    @property
    def active(self) -> list[str]:
        return self.filterset.active

    @property
    def is_filtered(self) -> bool:
        return self.filterset.is_filtered


def list_filter(request: HttpRequest, qs: QuerySet[Any], filters: Sequence[Filter]) -> FilterSet:
    """Bind the filters to the request's query string (for the list and its export alike)."""
    return FilterSet(request.GET, filters)


def list_build(
    request: HttpRequest,
    qs: QuerySet[Any],
    filters: Sequence[Filter],
    *,
    noun: Label,
    sums: Mapping[str, Label] | None = None,
    quantities: Mapping[str, Label] | None = None,
    export_url: str = "",
    per_page: int | None = None,
    keep: Sequence[str] = (),
) -> Listing:
    """Filter, count, total and page a scoped queryset for a list page.

    ``keep`` names query parameters outside the filters (a tab) that the filter form carries.
    """
    fs = list_filter(request, qs, filters)
    filtered = fs.apply(qs)
    count, totals = list_totals(filtered, sums, quantities=quantities)
    page = paginate(
        request, filtered, per_page=per_page or pagination.DEFAULT_PAGE_SIZE, size_param="size"
    )
    hidden = [(k, str(request.GET[k])) for k in keep if request.GET.get(k)]
    return Listing(fs, filtered, page, count, totals, str(noun), export_url, hidden)


# ---------------------------------------------------------------- export


@dataclass(frozen=True)
class Column:
    """One export column: a Chinese header and how to read the cell from a row."""

    header: Label
    value: Callable[[Any], Any]
    width: float = 14


def attr(path: str) -> Callable[[Any], Any]:
    """Read a dotted attribute path (``entity.name``); a missing link gives None."""

    def read(obj: Any) -> Any:
        for part in path.split("."):
            if obj is None:
                return None
            obj = getattr(obj, part)
        return obj

    return read


def display(path: str) -> Callable[[Any], Any]:
    """Read a choice field's label (``status`` → ``get_status_display()``), dotted allowed."""
    *head, last = path.split(".")
    owner = attr(".".join(head)) if head else (lambda o: o)

    def read(obj: Any) -> Any:
        target = owner(obj)
        return None if target is None else str(getattr(target, f"get_{last}_display")())

    return read


def export_cell(value: Any) -> Any:
    """Return a value as a spreadsheet keeps it: local naive datetimes, labels as text."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, Promise):
        return str(value)
    return value


def xlsx_export(
    rows: Iterable[Any], columns: Sequence[Column], *, title: Label, filename: str, fallback: str
) -> FileResponse:
    """Return an Excel file of the rows (header bold and frozen) under the given name."""
    stamp = timezone.localdate().strftime("%Y%m%d")

    def lines() -> Iterable[list[Any]]:
        for row in rows:
            yield [export_cell(c.value(row)) for c in columns]

    sheet = Sheet(
        title=str(title),
        header=[str(c.header) for c in columns],
        rows=lines(),
        widths=[c.width for c in columns],
        freeze_header=True,
    )
    return xlsx_response(
        [sheet], filename=f"{filename}-{stamp}.xlsx", fallback=f"{fallback}-{stamp}.xlsx"
    )


def query_rows(qs: QuerySet[Any], chunk_size: int = 1000) -> Iterable[Any]:
    """Iterate a queryset in chunks (``prefetch_related`` works with a chunk size)."""
    return qs.iterator(chunk_size=chunk_size)


__all__ = [
    "AmountRangeFilter",
    "BooleanFilter",
    "ChoiceFilter",
    "Column",
    "DateRangeFilter",
    "Filter",
    "FilterSet",
    "Listing",
    "RegionFilter",
    "SearchFilter",
    "Total",
    "attr",
    "display",
    "export_cell",
    "list_build",
    "list_filter",
    "list_totals",
    "region_choices",
    "xlsx_export",
]
