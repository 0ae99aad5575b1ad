"""Forms of the enterprise's authorisation page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation
from xinrong.common.errors import ApplicationError
from xinrong.common.forms import DateInput
from xinrong.credit.choices import DisputeKind, Purpose, Scope
from xinrong.credit.evidence import EVIDENCE_ACCEPT
from xinrong.credit.reports.numbers import normalise_digest
from xinrong.datahub.categories import BOOL, CATEGORIES, CATEGORY_CHOICES, CHOICE
from xinrong.datahub.models import Fact


class AuthorisationForm(forms.Form):
    """Grant an institution access to the archive."""

    institution = forms.ModelChoiceField(
        label=_("被授权机构"),
        queryset=Organisation.objects.filter(kind__in=INSTITUTION_KINDS, is_active=True),
    )
    scope = forms.ChoiceField(label=_("授权范围"), choices=Scope.choices)
    categories = forms.MultipleChoiceField(
        label=_("指定类别（授权范围为“指定类别”时填写）"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.ChoiceField(label=_("查询用途"), choices=Purpose.choices)
    purpose_note = forms.CharField(label=_("用途说明"), max_length=200, required=False)
    expires_on = forms.DateField(
        label=_("有效期至"),
        widget=DateInput(),
        help_text=_("最长一年，可随时撤销"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + dt.timedelta(days=90)


# ---------------------------------------------------------------- credit reports

REPORT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024


class ReportGenerateForm(forms.Form):
    """Generate a credit report; the enterprise may name what it is for."""

    purpose = forms.ChoiceField(
        label=_("报告用途"),
        choices=[("", _("不指定")), *Purpose.choices],
        required=False,
        help_text=_("机构生成的报告用途即企业授权的用途"),
    )


class ReportVerifyForm(forms.Form):
    """Check a copy of a report: upload the PDF, or paste its SM3 digest."""

    document = forms.FileField(
        label=_("上传报告 PDF 文件"),
        required=False,
        help_text=_("不超过 20 MB；文件只用于计算摘要，不会保存"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    digest = forms.CharField(
        label=_("或粘贴 SM3 摘要"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "class": "xr-mono",
                "placeholder": _("64位十六进制字符"),
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )

    def clean_document(self) -> Any:
        document = self.cleaned_data.get("document")
        if document is not None and document.size > REPORT_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("文件不能超过 20 MB（所选文件 %(mb).1f MB）") % {"mb": document.size / 2**20}
            )
        return document

    def clean_digest(self) -> str:
        text = str(self.cleaned_data.get("digest") or "").strip()
        if not text:
            return ""
        try:
            return normalise_digest(text)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_file = data.get("document") is not None
        has_digest = bool(data.get("digest"))
        if not self.errors and not (has_file or has_digest):
            raise forms.ValidationError(_("请上传报告 PDF 文件，或粘贴报告的 SM3 摘要"))
        if has_file and has_digest:
            raise forms.ValidationError(_("请只选择一种核验方式：上传文件或粘贴摘要"))
        return data


# ---------------------------------------------------------------- disputes and credit repair


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that takes several files."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field whose cleaned value is a list of files (possibly empty)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(d, initial) for d in data if d]
        return [one(data, initial)] if data else []


EVIDENCE_HELP = _("可选多个文件：PDF、JPG、PNG、XLSX，每个不超过 10 MB，最多 10 个")


def value_field_name(key: str) -> str:
    """Return the form field holding the value of a fact's field ``key``."""
    return f"value_{key}"


def _value_fields(form: forms.Form, category: str, initial: dict[str, str]) -> list[str]:
    """Add one optional text input per field of the category; return their names."""
    spec = CATEGORIES[category]
    names = []
    for f in spec.fields:
        name = value_field_name(f.key)
        if f.kind == CHOICE:  # the labels, never the codes (both are accepted)
            hint = [str(_("可选值：%(c)s") % {"c": "、".join(f.choice_labels().values())})]
        elif f.kind == BOOL:
            hint = [str(_("填写“是”或“否”"))]
        else:
            hint = [str(_(f.note))] if f.note else []
        form.fields[name] = forms.CharField(
            label=_(f.header),
            required=False,
            max_length=max(f.max_length, 64),
            initial=f.display(initial.get(f.key, "")),
            help_text="；".join(hint),
        )
        names.append(name)
    return names


class DisputeForm(forms.Form):
    """The enterprise files a dispute about one fact."""

    kind = forms.ChoiceField(label=_("异议类型"), choices=DisputeKind.choices)
    claim = forms.CharField(
        label=_("异议说明"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("说明哪里不对、事实应当如何；可附证据文件"),
    )
    evidence = MultipleFileField(label=_("证据文件"), required=False, help_text=EVIDENCE_HELP)

    def __init__(self, *args: Any, fact: Fact, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fact = fact
        self.current = fact.values()
        self.value_names = _value_fields(self, fact.category, {})
        for name, f in zip(self.value_names, CATEGORIES[fact.category].fields, strict=True):
            self.fields[name].help_text = "；".join(
                filter(
                    None,
                    [
                        str(_("现值：%(v)s") % {"v": f.display(self.current.get(f.key)) or "—"}),
                        str(self.fields[name].help_text),
                    ],
                )
            )

    def proposed_values(self) -> dict[str, str]:
        """Return the values the enterprise filled in (only non-empty inputs)."""
        spec = CATEGORIES[self.fact.category]
        out = {}
        for f in spec.fields:
            text = (self.cleaned_data.get(value_field_name(f.key)) or "").strip()
            if text:
                out[f.key] = text
        return out


class DisputeCorrectForm(forms.Form):
    """The department corrects the fact: pre-filled with the asked-for or current values."""

    note = forms.CharField(
        label=_("处理意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, fact: Fact, proposed: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fact = fact
        self.current = fact.values()
        initial = {**self.current, **proposed}
        self.value_names = _value_fields(self, fact.category, initial)
        self.order_fields([*self.value_names, "note"])

    def changes(self) -> dict[str, str]:
        """Return the fields whose submitted value differs from the stored one."""
        spec = CATEGORIES[self.fact.category]
        out = {}
        for f in spec.fields:
            text = (self.cleaned_data.get(value_field_name(f.key)) or "").strip()
            current = self.current.get(f.key, "")
            # the inputs show labels (一般, 是): a label left as it was is no change
            if text != current and text != f.display(current):
                out[f.key] = text
        return out


class ReasonForm(forms.Form):
    """A required reason (upholding a fact, refusing a repair)."""

    reason = forms.CharField(
        label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(forms.Form):
    """An optional note (withdrawing, starting review, approving a repair)."""

    note = forms.CharField(
        label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class EvidenceForm(forms.Form):
    """More evidence files for an open dispute."""

    evidence = MultipleFileField(label=_("证据文件"), help_text=EVIDENCE_HELP)


class RepairForm(forms.Form):
    """The enterprise applies to repair a penalty record."""

    statement = forms.CharField(
        label=_("整改情况说明"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("说明已履行的处罚决定、已纠正的失信行为和整改措施"),
    )
    evidence = MultipleFileField(
        label=_("整改证明材料"),
        help_text=format_lazy("{}{}", _("如罚款缴纳凭证、整改报告；"), EVIDENCE_HELP),
    )
