"""Forms of the policy pages: documents, measures, the condition editor, the Excel import.

Forms only type the input; ``services.catalogue`` checks the values and names every bad field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.common.forms import DateInput
from xinrong.policies import conditions as cond
from xinrong.policies.choices import Delivery, MeasureKind, PolicyLevel


class DocumentForm(forms.Form):
    """A policy document's fields."""

    title = forms.CharField(label=gettext_lazy("文件标题"), max_length=200)
    doc_number = forms.CharField(label=gettext_lazy("文号"), max_length=100, required=False)
    level = forms.ChoiceField(label=gettext_lazy("层级"), choices=PolicyLevel.choices)
    co_issuers = forms.CharField(label=gettext_lazy("联合发文单位"), max_length=300, required=False)
    region_code = forms.CharField(
        label=gettext_lazy("适用地区（行政区划代码）"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("如 630000（全省）、630100（西宁市）；为空表示不限"),
    )
    issued_on = forms.DateField(label=gettext_lazy("发布日期"), widget=DateInput())
    effective_from = forms.DateField(
        label=gettext_lazy("施行日期"), widget=DateInput(), required=False
    )
    effective_to = forms.DateField(
        label=gettext_lazy("有效期至"), widget=DateInput(), required=False
    )
    summary = forms.CharField(
        label=gettext_lazy("政策摘要"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    full_text = forms.CharField(
        label=gettext_lazy("政策全文"),
        required=False,
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachment = forms.FileField(label=gettext_lazy("附件（PDF）"), required=False)
    source_url = forms.CharField(label=gettext_lazy("原文链接"), max_length=300, required=False)
    is_pboc = forms.BooleanField(
        label=gettext_lazy("央行政策（显示在央行政策专栏）"), required=False
    )

    def clean_attachment(self) -> Any:
        f = self.cleaned_data.get("attachment")
        if f:
            if not f.name.lower().endswith(".pdf"):
                raise forms.ValidationError(_("附件只接受 PDF 文件"))
            if f.size > 10 * 1024 * 1024:
                raise forms.ValidationError(_("附件不能超过10MB"))
        return f


class MeasureForm(forms.Form):
    """A measure's terms (its conditions are edited in the condition formset beside it)."""

    title = forms.CharField(label=gettext_lazy("措施名称"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("措施类型"), choices=MeasureKind.choices)
    delivery = forms.ChoiceField(label=gettext_lazy("兑现方式"), choices=Delivery.choices)
    description = forms.CharField(
        label=gettext_lazy("措施内容"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("定额金额（元）"), max_digits=16, decimal_places=2, required=False
    )
    ratio = forms.DecimalField(
        label=gettext_lazy("比例"),
        max_digits=7,
        decimal_places=6,
        required=False,
        help_text=gettext_lazy("小数，如 0.5 表示按50%"),
    )
    cap = forms.DecimalField(
        label=gettext_lazy("单户上限（元）"), max_digits=16, decimal_places=2, required=False
    )
    cap_per_loan = forms.DecimalField(
        label=gettext_lazy("单笔贷款上限（元）"), max_digits=16, decimal_places=2, required=False
    )
    budget = forms.DecimalField(
        label=gettext_lazy("预算总额（元）"), max_digits=16, decimal_places=2, required=False
    )
    window_start = forms.DateField(
        label=gettext_lazy("申报开始日期"), widget=DateInput(), required=False
    )
    window_end = forms.DateField(
        label=gettext_lazy("申报截止日期"), widget=DateInput(), required=False
    )
    materials = forms.CharField(
        label=gettext_lazy("申报材料"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("每行一项，或以逗号分隔"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact = forms.CharField(label=gettext_lazy("联系方式"), max_length=200, required=False)
    tags = forms.CharField(
        label=gettext_lazy("标签"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("以逗号分隔，如 专精特新,首贷"),
    )
    note = forms.CharField(
        label=gettext_lazy("修改说明"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("写入版本记录，如“提高奖励标准”"),
    )

    def terms(self, conditions: list[dict[str, Any]]) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "note"}
        data["conditions"] = conditions
        return data

    @staticmethod
    def initial_from(measure: Any) -> dict[str, Any]:
        return {
            "title": measure.title,
            "kind": measure.kind,
            "delivery": measure.delivery,
            "description": measure.description,
            "amount": measure.amount,
            "ratio": measure.ratio,
            "cap": measure.cap,
            "cap_per_loan": measure.cap_per_loan,
            "budget": measure.budget,
            "window_start": measure.window_start,
            "window_end": measure.window_end,
            "materials": "\n".join(measure.materials or []),
            "contact": measure.contact,
            "tags": ",".join(measure.tags or []),
        }


FIELD_CHOICES = [("", gettext_lazy("请选择条件项"))] + [(f.name, f.label) for f in cond.FIELDS_LIST]
OP_CHOICES = [(op, label) for op, label in cond.OP_LABELS.items()]


def value_hint(f: cond.ConditionField, tag_names: dict[str, str]) -> str:
    """Return what a clerk may type as the value of a field (shown in the editor's guide)."""
    if f.kind in (cond.CHOICE, cond.GRADE):
        return "、".join(str(label) for _v, label in f.choices)
    if f.kind == cond.FLAG:
        return _("是 / 否")
    if f.kind == cond.NUMBER:
        return _("数字（%(u)s）；“介于”填两个数，以逗号分隔") % {"u": f.unit}
    if f.kind == cond.TAGS:
        return "、".join(tag_names.values()) or _("暂无企业标签")
    if f.name == "industry":
        return _("行业门类字母或代码，以逗号分隔，如 C,F51")
    return _("行政区划代码，以逗号分隔，如 630100,632800")


class ConditionForm(forms.Form):
    """One condition: field, operator, value (typed as text, read by the field's kind)."""

    field = forms.ChoiceField(label=gettext_lazy("条件项"), choices=FIELD_CHOICES, required=False)
    op = forms.ChoiceField(label=gettext_lazy("关系"), choices=OP_CHOICES, required=False)
    value = forms.CharField(label=gettext_lazy("取值"), max_length=2000, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the editor renders bare widgets: give them the page's look (and their column's width)
        self.fields["field"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["op"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["value"].widget.attrs["class"] = "form-control form-control-sm"

    def condition(self, tag_by_name: dict[str, str]) -> dict[str, Any] | None:
        """Return the condition in the data form (None for an empty row)."""
        name = self.cleaned_data.get("field") or ""
        if not name:
            return None
        f = cond.FIELDS[name]
        op = self.cleaned_data.get("op") or f.ops[0]
        text = (self.cleaned_data.get("value") or "").strip()
        return {"field": name, "op": op, "value": parse_value(f, op, text, tag_by_name)}


def _parts(text: str) -> list[str]:
    for sep in ("，", "、", "\n", ";", "；"):
        text = text.replace(sep, ",")
    return [p.strip() for p in text.split(",") if p.strip()]


def _num(text: str) -> Any:
    try:
        n = float(text)
    except ValueError:
        return text  # validate() names it: "…必须是数字"
    return int(n) if n == int(n) else n


def parse_value(f: cond.ConditionField, op: str, text: str, tag_by_name: dict[str, str]) -> Any:
    """Read a typed value by the field's kind (labels accepted for choices, names for tags)."""
    if f.kind == cond.FLAG:
        return {"是": True, "否": False}.get(text, text)
    if f.kind == cond.GRADE:
        return text.upper()
    if f.kind == cond.NUMBER:
        if op == "between":
            return [_num(p) for p in _parts(text)]
        return _num(text) if text else None
    values = _parts(text)
    if f.kind == cond.CHOICE:
        by_label = {str(label): v for v, label in f.choices}
        return [by_label.get(v, v) for v in values]
    if f.kind == cond.TAGS:
        return [tag_by_name.get(v, v) for v in values]
    if f.name == "industry":
        return [v.upper() for v in values]
    return values


def value_text(c: dict[str, Any], tag_names: dict[str, str]) -> str:
    """The reverse of ``parse_value``: a stored condition's value as the editor shows it."""
    f = cond.FIELDS.get(c.get("field", ""))
    value = c.get("value")
    if f is None:
        return str(value)
    if f.kind == cond.FLAG:
        return "是" if value else "否"
    if f.kind == cond.CHOICE and isinstance(value, list):
        return ",".join(f.choice_label(v) for v in value)
    if f.kind == cond.TAGS and isinstance(value, list):
        return ",".join(str(tag_names.get(v, v)) for v in value)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


ConditionFormSet = forms.formset_factory(
    ConditionForm, extra=2, can_delete=True, max_num=cond.MAX_CONDITIONS, validate_max=True
)


def conditions_initial(
    conditions: list[dict[str, Any]], tag_names: dict[str, str]
) -> list[dict[str, Any]]:
    """Initial rows of the condition formset for stored conditions."""
    return [
        {"field": c.get("field"), "op": c.get("op"), "value": value_text(c, tag_names)}
        for c in conditions
    ]


class ImportForm(forms.Form):
    """The department's filled-in template."""

    file = forms.FileField(
        label=gettext_lazy("措施导入文件"),
        help_text=gettext_lazy("使用下载的模板填写，.xlsx 或 .csv，不超过5MB"),
    )


class NoteForm(forms.Form):
    """The reason of a withdrawal."""

    note = forms.CharField(label=gettext_lazy("撤回原因"), max_length=300)
