"""Forms of the enterprise's authorisation page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation
from xinrong.common.errors import ApplicationError
from xinrong.credit.choices import Purpose, Scope
from xinrong.credit.reports import normalise_digest
from xinrong.datahub.categories import CATEGORY_CHOICES


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
        widget=forms.DateInput(attrs={"type": "date"}),
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
    )
    digest = forms.CharField(
        label=_("或粘贴 SM3 摘要"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
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
