"""Forms of the data hub pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xinrong.datahub.categories import CATEGORY_CHOICES
from xinrong.datahub.choices import CONFLICT_OUTCOMES
from xinrong.datahub.models import Source

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class UploadForm(forms.Form):
    """Deliver one file of one category for one source."""

    source = forms.ModelChoiceField(label=_("数据来源"), queryset=Source.objects.none())
    category = forms.ChoiceField(label=_("数据类别"), choices=CATEGORY_CHOICES)
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"))

    def __init__(self, *args: Any, sources: QuerySet[Source], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sources

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not (name.endswith(".xlsx") or name.endswith(".csv")):
            raise forms.ValidationError(_("只接受 .xlsx 或 .csv 文件"))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件不能超过 200 MB"))
        return upload


class ConflictResolveForm(forms.Form):
    """Close a conflict: the outcome, which source was wrong (for confirmed_error) and why."""

    outcome = forms.ChoiceField(
        label=_("处理结果"),
        choices=[(o.value, o.label) for o in CONFLICT_OUTCOMES],
        widget=forms.RadioSelect,
    )
    blamed_source = forms.ChoiceField(
        label=_("数据有误的来源"),
        required=False,
        help_text=_("仅在“确认数据有误”时选择"),
    )
    note = forms.CharField(
        label=_("处理说明"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("说明核查结论：哪方数据有误、已如何更正，或两者为何均属实、为何属于误报"),
    )

    def __init__(self, *args: Any, sides: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["blamed_source"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("（不适用）")), *sides]


class ConflictReopenForm(forms.Form):
    """Reopen a closed conflict, with the reason."""

    note = forms.CharField(
        label=_("重新打开的原因"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
