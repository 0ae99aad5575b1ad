"""Import of 信用创评 records from an Excel sheet: every row checked, all errors at once, all or
nothing (one transaction; a row of an existing division and year replaces its figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.permissions import in_region, require
from xinrong.common.errors import ApplicationError
from xinrong.datahub.rows import FileFormatError, iter_table
from xinrong.insight.models import CampaignRecord
from xinrong.reference import divisions

# the columns of the template, in order (the header row must name them)
HEADERS = ("行政区划代码", "年度", "信用户（户）", "信用村（个）", "信用乡镇（个）")
FIELDS = ("division_code", "year", "credit_households", "credit_villages", "credit_townships")
MAX_ROWS = 20000
FIRST_YEAR = 2000


class CampaignImportError(ApplicationError):
    """The sheet cannot be imported: ``extra["errors"]`` lists every row's problems."""

    status = 422


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _int(text: str) -> int | None:
    text = text.strip().replace(",", "")
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isdigit() else None


def _check_row(user: Any, line: int, cells: list[str]) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    values: dict[str, Any] = {}
    raw = dict(zip(FIELDS, [*cells, *[""] * len(FIELDS)], strict=False))
    code = divisions.normalize_code(raw["division_code"])
    division = divisions.get(code) if code else None
    if not code:
        problems.append(_("行政区划代码必填"))
    elif division is None or not code.startswith("63"):
        problems.append(_("行政区划代码 %(c)s 不是青海省的区划") % {"c": code})
    elif division.level < divisions.LEVEL_COUNTY:
        problems.append(_("行政区划代码 %(c)s 须为县、乡镇或村的代码") % {"c": code})
    elif not in_region(user, code):
        problems.append(_("行政区划代码 %(c)s 不在本单位管辖地区内") % {"c": code})
    values["division_code"] = code
    year = _int(raw["year"])
    if year is None or not FIRST_YEAR <= year <= date.today().year:
        problems.append(
            _("年度须为 %(a)s 至 %(b)s 之间的年份") % {"a": FIRST_YEAR, "b": date.today().year}
        )
    values["year"] = year
    for field, header in zip(FIELDS[2:], HEADERS[2:], strict=True):
        number = _int(raw[field]) if raw[field].strip() else 0
        if number is None:
            problems.append(_("%(h)s须为不小于 0 的整数") % {"h": header})
        values[field] = number or 0
    if division is not None and not problems:
        if division.level == divisions.LEVEL_VILLAGE and values["credit_villages"] > 1:
            problems.append(_("村级代码的信用村（个）只能是 0 或 1"))
        if division.level == divisions.LEVEL_VILLAGE and values["credit_townships"]:
            problems.append(_("村级代码不能填写信用乡镇（个）"))
        if division.level == divisions.LEVEL_TOWNSHIP and values["credit_townships"] > 1:
            problems.append(_("乡镇级代码的信用乡镇（个）只能是 0 或 1"))
    return values, [_("第 %(n)s 行：%(p)s") % {"n": line, "p": p} for p in problems]


def import_campaigns(*, user: Any, fileobj: IO[bytes], filename: str) -> ImportResult:
    """Check every row of the sheet and, only if all are valid, write them in one transaction."""
    require(user, "insight.campaign_import")
    try:
        rows = list(iter_table(fileobj, filename))
    except FileFormatError as exc:
        raise CampaignImportError("campaign_file", str(exc), {"field": "file"}) from exc
    if not rows or [c.strip() for c in rows[0][: len(HEADERS)]] != list(HEADERS):
        raise CampaignImportError(
            "campaign_headers",
            _("第一行须为模板的表头：%(h)s。请下载模板填写。") % {"h": "、".join(HEADERS)},
            {"field": "file"},
        )
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    if not body:
        raise CampaignImportError("campaign_empty", _("表格中没有数据行"), {"field": "file"})
    if len(body) > MAX_ROWS:
        raise CampaignImportError(
            "campaign_too_many", _("一次最多导入 %(n)s 行") % {"n": MAX_ROWS}, {"field": "file"}
        )
    errors: list[str] = []
    parsed: dict[tuple[str, int], dict[str, Any]] = {}
    for line, cells in body:
        values, problems = _check_row(user, line, cells)
        key = (values["division_code"], values["year"])
        if not problems and key in parsed:
            problems.append(
                _("第 %(n)s 行：区划 %(c)s 的 %(y)s 年度在表中重复")
                % {"n": line, "c": key[0], "y": key[1]}
            )
        errors.extend(problems)
        parsed[key] = values
    if errors:
        raise CampaignImportError(
            "campaign_rows",
            _("共 %(n)s 处错误，未导入任何数据：") % {"n": len(errors)} + "；".join(errors[:50]),
            {"field": "file", "errors": errors},
        )
    with transaction.atomic():
        codes = {k[0] for k in parsed}
        years = {k[1] for k in parsed}
        existing = {
            (r.division_code, r.year): r
            for r in CampaignRecord.objects.select_for_update().filter(
                division_code__in=codes, year__in=years
            )
        }
        now = timezone.now()
        new: list[CampaignRecord] = []
        changed: list[CampaignRecord] = []
        for key, values in parsed.items():
            record = existing.get(key)
            if record is None:
                new.append(CampaignRecord(imported_by=user, **values))
                continue
            for field in FIELDS[2:]:
                setattr(record, field, values[field])
            record.imported_by = user
            record.updated_at = now
            changed.append(record)
        CampaignRecord.objects.bulk_create(new, batch_size=1000)
        CampaignRecord.objects.bulk_update(
            changed, [*FIELDS[2:], "imported_by", "updated_at"], batch_size=1000
        )
    return ImportResult(created=len(new), updated=len(changed))


def template_rows() -> list[list[Any]]:
    """Example rows of the template (a village, a township, a county of 西宁)."""
    year = date.today().year
    return [
        ["630121100201", year, 120, 1, 0],
        ["630121100", year, 0, 0, 1],
        ["630121", year, 0, 0, 0],
    ]
