"""Forms of the data hub pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.datahub.categories import CATEGORY_CHOICES
from xinrong.datahub.choices import CONFLICT_OUTCOMES, Cadence
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
        # offer only what the clerk's sources deliver; a single source is chosen already
        offered = {c for s in sources for c in (s.categories or [])}
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [(c, label) for c, label in CATEGORY_CHOICES if c in offered]
        if len(sources) == 1:
            field.initial = sources[0].pk
            field.empty_label = None

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


class SourceForm(forms.Form):
    """Register or edit a data source: who delivers which categories, how often."""

    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        label=_("所属部门"),
        queryset=Organisation.objects.none(),
        help_text=_("报送该来源数据的政府部门"),
        error_messages={"invalid_choice": _("所属部门不在可选范围内，请重新选择")},
    )
    name = forms.CharField(
        label=_("来源名称"),
        max_length=100,
        help_text=_("例如：海东市市场监督管理局行政处罚信息"),
    )
    code = forms.CharField(
        label=_("来源代码"),
        max_length=40,
        help_text=_("2–40 位小写英文字母、数字、连字符或下划线，例如 haidong-amr；登记后不能修改"),
    )
    categories = forms.MultipleChoiceField(
        label=_("报送的数据类别"),
        choices=CATEGORY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("报送的数据类别至少选择一项")},
    )
    cadence = forms.ChoiceField(
        label=_("更新频率"), choices=Cadence.choices, initial=Cadence.MONTHLY
    )
    description = forms.CharField(
        label=_("说明"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("数据口径、覆盖范围、联系人等"),
    )

    def __init__(
        self,
        *args: Any,
        organisations: Any,
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organisations
        self.editing = editing
        if editing:
            self.fields["code"].disabled = True
            self.fields["organisation"].disabled = True

    def clean_code(self) -> str:
        """Check the code's shape and that it is free, with the other fields' errors at once."""
        from xinrong.datahub.services.sources import source_code_check

        code = str(self.cleaned_data["code"]).strip().lower()
        if not self.editing:
            try:
                source_code_check(code)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from None
        return code
