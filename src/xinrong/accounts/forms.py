"""Forms of the accounts pages; they parse input, the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import SecurityAction, User
from xinrong.accounts.services.login import (
    login_failure_record,
    login_success_record,
    login_throttle_locked,
)
from xinrong.accounts.services.users import ISSUE_REASON_MIN
from xinrong.common.forms import DateInput, PhoneField, UsernameField


def _region_choices() -> list[tuple[str, str]]:
    from xinrong.reference.divisions import region_choices

    return [("", _t("全省（不限区划）")), *region_choices()]


class RegionField(forms.ChoiceField):
    """Where an organisation sits or what it oversees, chosen by name (the code is stored)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("所在/管辖区划"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("子站必选；政府部门选择后只能看到本区划的数据"))
        super().__init__(choices=_region_choices, **kwargs)


class LockoutAuthenticationForm(AuthenticationForm):
    """Log in, refusing a username locked from this address and counting failures towards it.

    The words are the same whether or not the username exists, and a locked pair is refused
    before the password is looked at (docs/security.md, "Login").
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "用户名或密码不正确。同一用户名从同一地址连续失败 %(limit)s 次将被暂时锁定。"
        ),
        "inactive": _(
            "用户名或密码不正确。同一用户名从同一地址连续失败 %(limit)s 次将被暂时锁定。"
        ),
        "locked": _(
            "该用户名从您所在地址的登录因多次失败已被锁定，请在 %(until)s 之后重试，"
            "或联系平台运营方解锁。"
        ),
    }

    def _locked(self, until: Any) -> forms.ValidationError:
        return self.locked_error(until)

    @classmethod
    def locked_error(cls, until: Any) -> forms.ValidationError:
        """The refusal of a locked username, naming the (Beijing) time the lock ends."""
        return forms.ValidationError(
            cls.error_messages["locked"],
            code="locked",
            params={"until": timezone.localtime(until).strftime("%H:%M")},
        )

    def clean(self) -> dict[str, Any]:
        from django.conf import settings

        from xinrong.accounts.auth import request_source

        username = self.cleaned_data.get("username") or ""
        ip, agent = request_source(self.request) if self.request else ("", "")
        throttle = login_throttle_locked(username=username, source_ip=ip)
        if throttle is not None:
            raise self._locked(throttle.locked_until)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle = login_failure_record(username=username, source_ip=ip, user_agent=agent)
            if throttle.is_locked():
                raise self._locked(throttle.locked_until) from None
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"limit": settings.LOGIN_FAILURE_LIMIT},
            ) from None
        user = self.get_user()
        if user is not None:  # None when a field was left empty (the field errors say so)
            login_success_record(user=user, source_ip=ip, user_agent=agent)
        return cleaned


def _password_checked(password: str, user: User | None = None) -> str:
    """Return the password, or raise every rule it breaks (the service checks them again)."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise forms.ValidationError(list(exc.messages)) from None
    return password


class PasswordChangeForm(forms.Form):
    """Change one's own password."""

    old_password = forms.CharField(label=_("原密码"), widget=forms.PasswordInput)
    new_password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput, help_text=_("至少10位，须同时包含字母和数字")
    )
    new_password_again = forms.CharField(label=_("再次输入新密码"), widget=forms.PasswordInput)

    def clean_new_password(self) -> str:
        return _password_checked(self.cleaned_data["new_password"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _t("两次输入的新密码不一致"))
        return data


class OrganisationCreateForm(forms.Form):
    """An operator creates an institution, department or sub-station."""

    name = forms.CharField(label=_("机构名称"), max_length=200)
    contact = forms.CharField(
        label=_("联系人及电话"),
        max_length=200,
        required=False,
        help_text=_("例如：李明 0971-1234567"),
    )
    kind = forms.ChoiceField(
        label=_("机构类型"),
        choices=[
            (k.value, k.label)
            for k in OrgKind
            if k not in (OrgKind.ENTERPRISE, OrgKind.INDIVIDUAL_BUSINESS)
        ],
    )
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=24, required=False)
    region_code = RegionField()


class UserCreateForm(forms.Form):
    """An operator or an institution admin adds a user to an organisation."""

    username = UsernameField(label=_("用户名"))
    display_name = forms.CharField(label=_("姓名"), max_length=64)
    phone = PhoneField(label=_("手机号"), required=False)
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput,
        help_text=_("至少10位，须同时包含字母和数字"),
    )
    roles = forms.MultipleChoiceField(
        label=_("角色"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, allowed_roles: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["roles"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(r.value, r.label) for r in Role if r.value in allowed_roles]

    def clean_password(self) -> str:
        # checked here too, so the password's rules show with every other error at once
        candidate = User(
            username=str(self.data.get("username", "")),
            display_name=str(self.data.get("display_name", "")),
        )
        return _password_checked(self.cleaned_data["password"], candidate)


class ApiKeyCreateForm(forms.Form):
    """Name a new API key."""

    name = forms.CharField(label=_("用途"), max_length=100, help_text=_("例如：信贷系统对接"))


class EnterpriseLoginIssueForm(forms.Form):
    """An operator opens an enterprise's owner login: who asked, and why."""

    username = UsernameField(label=_("用户名"))
    display_name = forms.CharField(
        label=_("姓名"), max_length=64, help_text=_("企业主（法定代表人）姓名")
    )
    phone = PhoneField(label=_("手机号"), required=False)
    contact = forms.CharField(
        label=_("申请联系人"),
        max_length=200,
        help_text=_("提出申请的企业人员及联系方式，例如：马明 13800001111（法定代表人）"),
    )
    reason = forms.CharField(
        label=_("代开理由"),
        max_length=1000,
        min_length=ISSUE_REASON_MIN,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("谁提出、为何企业不能自行注册、核验了哪些材料；理由将告知企业并留存记录"),
        error_messages={
            "min_length": _("代开理由至少 %(limit_value)d 个字，请写明申请人、原因和核验的材料")
        },
    )


class SecurityLogFilterForm(forms.Form):
    """Filter the security record by action, person or address, and date."""

    action = forms.ChoiceField(
        label=_("操作"), required=False, choices=[("", _("全部")), *SecurityAction.choices]
    )
    q = forms.CharField(label=_("账号或地址"), required=False, max_length=150)
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=DateInput())


class OrganisationEditForm(forms.Form):
    """An operator corrects an organisation's name, contact or region (its kind stays)."""

    name = forms.CharField(label=_("机构名称"), max_length=200)
    contact = forms.CharField(
        label=_("联系人及电话"),
        max_length=200,
        required=False,
        help_text=_("例如：李明 0971-1234567"),
    )
    region_code = RegionField()


class UserEditForm(forms.Form):
    """An operator or an institution admin corrects a user's name, phone and roles."""

    display_name = forms.CharField(label=_("姓名"), max_length=64)
    phone = PhoneField(label=_("手机号"), required=False)
    roles = forms.MultipleChoiceField(
        label=_("角色"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, allowed_roles: frozenset[str] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allowed_roles is None:  # roles of this login are not the editor's to change
            del self.fields["roles"]
            return
        field = self.fields["roles"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(r.value, r.label) for r in Role if r.value in allowed_roles]


REASON_MIN = 4


class ActiveChangeForm(forms.Form):
    """Disable or re-enable an account or an organisation: the reason is recorded."""

    reason = forms.CharField(
        label=_("理由"),
        max_length=500,
        min_length=REASON_MIN,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("将记入安全日志，例如：员工离职、机构申请暂停使用"),
        error_messages={
            "required": _("理由必须填写：将记入安全日志"),
            "min_length": _("理由至少 %(limit_value)d 个字，请写明为何停用或启用"),
        },
    )


class UserListFilterForm(forms.Form):
    """Search the users one may manage."""

    q = forms.CharField(label=_("用户名、姓名或机构"), required=False, max_length=100)
    active = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("1", _("正常")), ("0", _("已停用"))],
    )


class SecondFactorForm(forms.Form):
    """The second step of a login: the authenticator's 6-digit code or a recovery code."""

    code = forms.CharField(
        label=_("动态验证码或恢复码"),
        max_length=32,
        help_text=_("输入验证器应用当前显示的6位数字；手机不在身边时，可输入一个恢复码"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        error_messages={"required": _("请输入动态验证码或恢复码")},
    )


class TotpConfirmForm(forms.Form):
    """Confirm a new authenticator with the code it shows."""

    code = forms.CharField(
        label=_("验证器显示的6位数字"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": _("请输入验证器应用显示的6位数字")},
    )
