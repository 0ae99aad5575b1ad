"""Forms of the registry pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xinrong.common.forms import UsernameField
from xinrong.enterprises.choices import EntityType
from xinrong.reference import industries
from xinrong.reference.choices import SizeClass


class EntitySearchForm(forms.Form):
    """Registry search criteria (GET)."""

    q = forms.CharField(
        label=_("名称或统一社会信用代码"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("如：拉面 或 91630100…")}),
    )
    region = forms.CharField(label=_("行政区划"), max_length=12, required=False)
    industry = forms.ChoiceField(label=_("行业"), required=False)
    size_class = forms.ChoiceField(
        label=_("企业规模"), required=False, choices=[("", _("全部")), *SizeClass.choices]
    )
    entity_type = forms.ChoiceField(
        label=_("主体类型"), required=False, choices=[("", _("全部")), *EntityType.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["industry"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _t("全部")), *industries.choices()]


class EnterpriseRegisterForm(forms.Form):
    """Self-registration of an enterprise or individual business."""

    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=24)
    name = forms.CharField(label=_("企业名称"), max_length=200)
    industry_code = forms.ChoiceField(label=_("所属行业"))
    division_code = forms.CharField(
        label=_("所在区划"), max_length=12, help_text=_("请逐级选择到区县或乡镇")
    )
    legal_rep_name = forms.CharField(label=_("法定代表人/经营者姓名"), max_length=64)
    legal_rep_id_number = forms.CharField(label=_("法定代表人身份证号码"), max_length=18)
    phone = forms.RegexField(
        label=_("手机号"),
        regex=r"^1\d{10}$",
        max_length=11,
        error_messages={"invalid": _("手机号应为以1开头的11位数字")},
    )
    username = UsernameField(label=_("登录用户名"))
    password = forms.CharField(
        label=_("密码"), widget=forms.PasswordInput, help_text=_("至少10位，须同时包含字母和数字")
    )
    password_again = forms.CharField(label=_("再次输入密码"), widget=forms.PasswordInput)
    agree = forms.BooleanField(
        label=_("我已阅读并同意平台服务协议与个人信息处理规则"),
        error_messages={"required": _("请阅读并同意服务协议")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["industry_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _t("请选择")), *industries.choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", _t("两次输入的密码不一致"))
        return data
