"""Import many measures at once from a department's Excel template (per-row errors, all or nothing).

The template has one row per measure, columns in Chinese; eligibility is written in readable
columns (主体类型, 行业代码, 最低经营年限, 最低纳税信用等级, 无失信, 企业标签 …) that become
conditions of the ``policies.conditions`` form. A row names its document by 文号 or title (a
document of the importer's department). Every row's errors are reported at once as (row, column,
rule); when any row is wrong nothing is written. A row whose 措施编号 names an existing measure of
the department changes that measure (a new version); otherwise a draft measure is created.
Reading the file reuses the data pipeline's reader (``datahub.rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts import permissions
from xinrong.common.errors import ApplicationError
from xinrong.common.exports import Sheet
from xinrong.datahub import rows as row_io
from xinrong.enterprises.models import Tag
from xinrong.policies import conditions as cond
from xinrong.policies.choices import Delivery, MeasureKind
from xinrong.policies.models import Measure, PolicyDocument
from xinrong.policies.services import catalogue as svc

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√"}
FALSE_WORDS = {"否", "n", "no", "false", "0", ""}


@dataclass(frozen=True)
class Column:
    """One template column: its Chinese header, the term it fills, an example and a hint."""

    header: Any
    term: str
    example: str = ""
    hint: Any = ""
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        gettext_lazy("文件文号"),
        "doc_number",
        "青工信发〔2026〕12号",
        gettext_lazy("文号或文件标题至少填一项"),
    ),
    Column(gettext_lazy("文件标题"), "doc_title", "", gettext_lazy("须是本部门已录入的政策文件")),
    Column(
        gettext_lazy("措施编号"),
        "code",
        "",
        gettext_lazy("留空则新建；填写已有编号则修改该措施（生成新版本）"),
    ),
    Column(gettext_lazy("措施名称"), "title", "专精特新中小企业一次性奖励", required=True),
    Column(
        gettext_lazy("措施类型"),
        "kind",
        "奖励",
        gettext_lazy("资金补贴、奖励、贷款贴息、担保费补贴、贷款风险补偿、税费减免、服务支持"),
        True,
    ),
    Column(
        gettext_lazy("兑现方式"),
        "delivery",
        "申请办理",
        gettext_lazy("申请办理 或 免申即享；留空为申请办理"),
    ),
    Column(gettext_lazy("措施内容"), "description", "对新认定的省级专精特新中小企业给予一次性奖励"),
    Column(gettext_lazy("定额金额（元）"), "amount", "200000"),
    Column(gettext_lazy("比例"), "ratio", "", gettext_lazy("小数，如 0.5 表示50%")),
    Column(gettext_lazy("单户上限（元）"), "cap", ""),
    Column(gettext_lazy("单笔贷款上限（元）"), "cap_per_loan", ""),
    Column(gettext_lazy("预算总额（元）"), "budget", "5000000"),
    Column(gettext_lazy("申报开始日期"), "window_start", "2026-03-01"),
    Column(gettext_lazy("申报截止日期"), "window_end", "2026-10-31"),
    Column(
        gettext_lazy("申报材料"),
        "materials",
        "申请表，营业执照，认定文件",
        gettext_lazy("以逗号或顿号分隔"),
    ),
    Column(gettext_lazy("联系方式"), "contact", "中小企业处 0971-0000000"),
    Column(
        gettext_lazy("标签"), "tags", "专精特新，奖励", gettext_lazy("措施的检索标签，以逗号分隔")
    ),
    # eligibility, as readable columns
    Column(
        gettext_lazy("主体类型"),
        "c_entity_type",
        "企业",
        gettext_lazy("企业、个体工商户；留空不限"),
    ),
    Column(
        gettext_lazy("企业规模"),
        "c_size_class",
        "中型，小型，微型",
        gettext_lazy("大型、中型、小型、微型；留空不限"),
    ),
    Column(
        gettext_lazy("行业代码"),
        "c_industry",
        "C",
        gettext_lazy("国民经济行业分类门类字母或代码，如 C,F51"),
    ),
    Column(gettext_lazy("地区代码"), "c_region", "630000", gettext_lazy("行政区划代码，如 630100")),
    Column(gettext_lazy("最低经营年限"), "c_years", "2", gettext_lazy("年")),
    Column(gettext_lazy("最低从业人数"), "c_employees", "", gettext_lazy("人")),
    Column(gettext_lazy("最高从业人数"), "c_employees_max", "", gettext_lazy("人")),
    Column(gettext_lazy("最低纳税信用等级"), "c_tax_grade", "B", "A、B、M、C、D"),
    Column(
        gettext_lazy("最低信用等级"), "c_credit_grade", "", "AAA、AA、A、BBB、BB、B、CCC、CC、C"
    ),
    Column(
        gettext_lazy("无失信"),
        "c_not_dishonest",
        "是",
        gettext_lazy("是：要求未被列为失信被执行人"),
    ),
    Column(
        gettext_lazy("无经营异常"), "c_not_abnormal", "", gettext_lazy("是：要求未列入经营异常名录")
    ),
    Column(gettext_lazy("首贷户"), "c_first_loan", "", gettext_lazy("是：仅限首贷户")),
    Column(
        gettext_lazy("企业标签"),
        "c_tags",
        "zjtx",
        gettext_lazy("企业须具有其中任一标签（标签代码或名称）"),
    ),
)


@dataclass(frozen=True)
class RowError:
    """One problem of one row: the sheet's row number, the column's header, the rule."""

    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    """What an import did (or why it did nothing)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def template_sheets() -> list[Sheet]:
    """Return the import template: the header row, one example row, and a sheet of notes."""
    header = [f"{c.header}{'*' if c.required else ''}" for c in COLUMNS]
    example = [c.example for c in COLUMNS]
    notes = [[str(c.header), _("必填") if c.required else _("选填"), str(c.hint)] for c in COLUMNS]
    return [
        Sheet(_("支持措施"), header, [example], widths=[16] * len(COLUMNS), freeze_header=True),
        Sheet(_("填写说明"), [_("列"), _("是否必填"), _("说明")], notes, widths=[18, 10, 60]),
    ]


def error_sheets(errors: Sequence[RowError]) -> list[Sheet]:
    """Return the downloadable error file: one line per problem."""
    return [
        Sheet(
            _("错误清单"),
            [_("行号"), _("列"), _("问题")],
            [[e.row, e.column, e.message] for e in errors],
            widths=[8, 20, 80],
        )
    ]


def _choice(value: str, choices: Sequence[tuple[str, Any]]) -> str | None:
    text = value.strip()
    for v, label in choices:
        if text in (v, str(label)):
            return v
    return None


def _multi(text: str, choices: Sequence[tuple[str, Any]]) -> tuple[list[str], list[str]]:
    good, bad = [], []
    for part in svc._text_list(text):
        v = _choice(part, choices)
        (good.append(v) if v else bad.append(part))
    return good, bad


def _yes(text: str) -> bool | None:
    t = text.strip().lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    return None


def _number(text: str) -> float | int | None:
    try:
        n = float(text)
    except ValueError:
        return None
    return int(n) if n == int(n) else n


class _Row:
    """One row being read: its cells by term, its errors, the conditions and their columns."""

    def __init__(self, number: int, cells: dict[str, str], headers: dict[str, str]) -> None:
        self.number = number
        self.cells = cells
        self.headers = headers
        self.errors: list[RowError] = []
        self.conditions: list[dict[str, Any]] = []
        self.condition_columns: list[str] = []

    def get(self, term: str) -> str:
        return self.cells.get(term, "").strip()

    def error(self, term: str, message: str) -> None:
        self.errors.append(RowError(self.number, self.headers.get(term, term), message))

    def add(self, term: str, condition: dict[str, Any]) -> None:
        self.conditions.append(condition)
        self.condition_columns.append(term)


def _conditions(r: _Row, tag_by_name: dict[str, str]) -> None:
    ent = r.get("c_entity_type")
    if ent:
        good, bad = _multi(ent, cond.FIELDS["entity_type"].choices)
        if bad:
            r.error(
                "c_entity_type", _("主体类型只能是企业或个体工商户：%(v)s") % {"v": "、".join(bad)}
            )
        elif good:
            r.add("c_entity_type", {"field": "entity_type", "op": "in", "value": good})
    size = r.get("c_size_class")
    if size:
        good, bad = _multi(size, cond.FIELDS["size_class"].choices)
        if bad:
            r.error(
                "c_size_class",
                _("企业规模只能是大型、中型、小型、微型：%(v)s") % {"v": "、".join(bad)},
            )
        elif good:
            r.add("c_size_class", {"field": "size_class", "op": "in", "value": good})
    for term, name in (("c_industry", "industry"), ("c_region", "region")):
        codes = [c.upper() if name == "industry" else c for c in svc._text_list(r.get(term))]
        if codes:
            r.add(term, {"field": name, "op": "in", "value": codes})
    for term, name, op in (
        ("c_years", "years_in_business", ">="),
        ("c_employees", "employees", ">="),
        ("c_employees_max", "employees", "<="),
    ):
        text = r.get(term)
        if text:
            n = _number(text)
            if n is None:
                r.error(term, _("%(c)s必须是数字") % {"c": r.headers.get(term, term)})
            else:
                r.add(term, {"field": name, "op": op, "value": n})
    for term, name in (("c_tax_grade", "tax_grade"), ("c_credit_grade", "credit_grade")):
        text = r.get(term).upper()
        if text:
            r.add(term, {"field": name, "op": ">=", "value": text})
    for term, name, wanted in (
        ("c_not_dishonest", "dishonest", False),
        ("c_not_abnormal", "abnormal_listed", False),
        ("c_first_loan", "first_loan", True),
    ):
        text = r.get(term)
        if not text:
            continue
        yes = _yes(text)
        if yes is None:
            r.error(term, _("%(c)s只能填“是”或“否”") % {"c": r.headers.get(term, term)})
        elif yes:
            r.add(term, {"field": name, "op": "is", "value": wanted})
    tags = [tag_by_name.get(t, t) for t in svc._text_list(r.get("c_tags"))]
    if tags:
        r.add("c_tags", {"field": "tags", "op": "has_any", "value": tags})


TERM_OF_FIELD = {
    "title": "title",
    "kind": "kind",
    "delivery": "delivery",
    "amount": "amount",
    "ratio": "ratio",
    "cap": "cap",
    "cap_per_loan": "cap_per_loan",
    "budget": "budget",
    "window_start": "window_start",
    "window_end": "window_end",
    "materials": "materials",
    "contact": "contact",
    "tags": "tags",
    "code": "code",
}


def _read(
    fileobj: IO[bytes], filename: str
) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]]]:
    """Return (term → header shown, [(row number, term → cell)]) from the uploaded file."""
    size = fileobj.seek(0, 2)
    fileobj.seek(0)
    if size > MAX_BYTES:
        raise ApplicationError(
            "file_too_large", _("文件不能超过5MB，请拆分后分批导入"), {"field": "file"}, status=422
        )
    try:
        if filename.lower().endswith(".xlsx"):
            row_io.xlsx_uncompressed_size(fileobj, limit=MAX_BYTES * 10)
        table = row_io.iter_table(fileobj, filename)
        headers_row = next(table, None)
        if headers_row is None:
            raise ApplicationError(
                "empty_file", _("文件是空的：请使用下载的模板填写"), {"field": "file"}, status=422
            )
        by_header = {str(c.header): c for c in COLUMNS}
        positions: dict[int, Column] = {}
        for i, h in enumerate(headers_row):
            key = (h or "").strip().rstrip("*").strip()
            if key in by_header:
                positions[i] = by_header[key]
        missing = [str(c.header) for c in COLUMNS if c.required and c not in positions.values()]
        if missing:
            raise ApplicationError(
                "file_format",
                _("缺少必填列：%(c)s（请使用下载的模板）") % {"c": "、".join(missing)},
                {"field": "file"},
                status=422,
            )
        rows: list[tuple[int, dict[str, str]]] = []
        for n, cells in enumerate(table, start=2):
            if not any((c or "").strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ApplicationError(
                    "too_many_rows",
                    _("一次最多导入%(n)d行，请拆分文件") % {"n": MAX_ROWS},
                    {"field": "file"},
                    status=422,
                )
            rows.append(
                (n, {positions[i].term: (cells[i] or "") for i in positions if i < len(cells)})
            )
    except row_io.FileFormatError as exc:
        raise ApplicationError("file_format", str(exc), {"field": "file"}, status=422) from exc
    headers = {c.term: str(c.header) for c in COLUMNS}
    return headers, rows


def measure_import(*, actor: Any, fileobj: IO[bytes], filename: str) -> ImportResult:
    """Import the measures of an uploaded template for the actor's department, all or nothing.

    Returns the counts, or (with nothing written) every row's errors as (row, column, rule).
    """
    permissions.require(actor, "policies.catalogue_workspace")
    department = svc._department_of(actor)
    headers, rows = _read(fileobj, filename)
    result = ImportResult(rows=len(rows))
    if not rows:
        result.errors.append(RowError(0, _("文件"), _("文件里没有措施行：请在模板第2行起填写")))
        return result
    docs = list(PolicyDocument.objects.filter(department=department))
    by_number = {d.doc_number: d for d in docs if d.doc_number}
    by_title: dict[str, list[PolicyDocument]] = {}
    for d in docs:
        by_title.setdefault(d.title, []).append(d)
    tags = list(Tag.objects.values_list("code", "name"))
    tag_by_name = {name: code for code, name in tags}
    known = {code for code, _n in tags}
    existing = {
        m.code: m
        for m in Measure.objects.filter(
            code__in=[
                c.get("code", "").strip().upper() for _n, c in rows if c.get("code", "").strip()
            ]
        ).select_related("document")
    }
    kinds = MeasureKind.choices
    deliveries = Delivery.choices
    plan: list[tuple[PolicyDocument, Measure | None, dict[str, Any], str]] = []
    seen_codes: dict[str, int] = {}
    for number, cells in rows:
        r = _Row(number, cells, headers)
        doc: PolicyDocument | None = None
        doc_number, doc_title = r.get("doc_number"), r.get("doc_title")
        if doc_number:
            doc = by_number.get(doc_number)
            if doc is None:
                r.error(
                    "doc_number",
                    _("本部门没有文号为“%(v)s”的政策文件，请先录入该文件") % {"v": doc_number},
                )
        elif doc_title:
            found = by_title.get(doc_title, [])
            if len(found) == 1:
                doc = found[0]
            elif not found:
                r.error(
                    "doc_title",
                    _("本部门没有标题为“%(v)s”的政策文件，请先录入该文件") % {"v": doc_title},
                )
            else:
                r.error(
                    "doc_title", _("本部门有多个标题为“%(v)s”的文件，请填写文号") % {"v": doc_title}
                )
        else:
            r.error("doc_number", _("请填写文件文号或文件标题"))
        code = r.get("code").upper()
        measure: Measure | None = None
        if code:
            if code in seen_codes:
                r.error("code", _("措施编号与第%(n)d行重复") % {"n": seen_codes[code]})
            seen_codes.setdefault(code, number)
            measure = existing.get(code)
            if measure is not None and measure.document.department_id != department.pk:
                r.error("code", _("措施编号“%(v)s”已被其他部门使用") % {"v": code})
                measure = None
        kind_text = r.get("kind")
        kind = _choice(kind_text, kinds) if kind_text else ""
        if kind_text and kind is None:
            r.error("kind", _("措施类型不认识：“%(v)s”") % {"v": kind_text})
            kind = "?"
        delivery_text = r.get("delivery")
        delivery = _choice(delivery_text, deliveries) if delivery_text else Delivery.APPLY
        if delivery is None:
            r.error("delivery", _("兑现方式只能是“申请办理”或“免申即享”"))
            delivery = Delivery.APPLY
        _conditions(r, tag_by_name)
        terms = {
            "title": r.get("title"),
            "kind": kind,
            "delivery": delivery,
            "description": r.get("description"),
            "amount": r.get("amount"),
            "ratio": r.get("ratio"),
            "cap": r.get("cap"),
            "cap_per_loan": r.get("cap_per_loan"),
            "budget": r.get("budget"),
            "window_start": r.get("window_start"),
            "window_end": r.get("window_end"),
            "materials": r.get("materials"),
            "contact": r.get("contact"),
            "tags": r.get("tags"),
            "conditions": r.conditions,
            "process_key": measure.process_key if measure else "",
        }
        try:
            svc.measure_terms_check(terms, tags_known=known)
        except ValidationError as exc:
            for fname, errs in exc.error_dict.items():
                for e in errs:
                    for m in e.messages:
                        if fname == "conditions":
                            r.errors.append(RowError(number, _condition_column(m, r), m))
                        elif fname == "kind" and kind == "?":
                            continue
                        else:
                            r.error(TERM_OF_FIELD.get(fname, fname), m)
        result.errors.extend(r.errors)
        if doc is not None and not r.errors:
            plan.append((doc, measure, terms, code))
    if result.errors:
        return result
    with transaction.atomic():
        for doc, measure, terms, code in plan:
            if measure is None:
                svc.measure_create(
                    actor=actor,
                    document=doc,
                    terms=terms,
                    code=code,
                    note=str(_("Excel 导入")),
                    tags_known=known,
                )
                result.created += 1
            else:
                before = measure.version
                updated = svc.measure_update(
                    actor=actor,
                    measure=measure,
                    terms=terms,
                    note=str(_("Excel 导入")),
                    tags_known=known,
                )
                if updated.version == before:
                    result.unchanged += 1
                else:
                    result.updated += 1
    return result


def _condition_column(message: str, r: _Row) -> str:
    """Return the column header a condition message ("第N条条件…") came from."""
    import re

    m = re.match(r"^第(\d+)条条件", message)
    if m:
        i = int(m.group(1)) - 1
        if 0 <= i < len(r.condition_columns):
            return r.headers.get(r.condition_columns[i], "")
    return str(_("申报条件"))
