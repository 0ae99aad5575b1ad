"""Forms of the accounts pages; they parse input, the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xinrong.accounts import services
from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import User


class LockoutAuthenticationForm(AuthenticationForm):
    """Log in, refusing locked accounts and counting failures towards a lockout."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。连续失败 %(limit)s 次将锁定账户。"),
        "locked": _("账户因多次登录失败已被锁定，请在 %(until)s 之后重试，或联系平台运营方解锁。"),
    }

    def clean(self) -> dict[str, Any]:
        from django.conf import settings

        username = self.cleaned_data.get("username") or ""
        user = User.objects.filter(username__iexact=username).first() if username else None
        if user is not None and user.is_locked():
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"until": timezone.localtime(user.locked_until).strftime("%H:%M")},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            locked = services.login_failure_record(username=username)
            if locked is not None and locked.is_locked():
                raise forms.ValidationError(
                    self.error_messages["locked"],
                    code="locked",
                    params={"until": timezone.localtime(locked.locked_until).strftime("%H:%M")},
                ) from None
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"limit": settings.LOGIN_FAILURE_LIMIT},
            ) from None
        user = self.get_user()
        if user is not None:  # None when a field was left empty (the field errors say so)
            services.login_success_record(user=user)
        return cleaned


class PasswordChangeForm(forms.Form):
    """Change one's own password."""

    old_password = forms.CharField(label=_("原密码"), widget=forms.PasswordInput)
    new_password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput, help_text=_("至少10位，须同时包含字母和数字")
    )
    new_password_again = forms.CharField(label=_("再次输入新密码"), widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _t("两次输入的新密码不一致"))
        return data


class OrganisationCreateForm(forms.Form):
    """An operator creates an institution, department or sub-station."""

    name = forms.CharField(label=_("机构名称"), max_length=200)
    kind = forms.ChoiceField(
        label=_("机构类型"),
        choices=[
            (k.value, k.label)
            for k in OrgKind
            if k not in (OrgKind.ENTERPRISE, OrgKind.INDIVIDUAL_BUSINESS)
        ],
    )
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=24, required=False)
    region_code = forms.CharField(
        label=_("所在/管辖区划代码"),
        max_length=12,
        required=False,
        help_text=_("子站必填；政府部门填写后只能看到本区划的数据"),
    )


class UserCreateForm(forms.Form):
    """An operator or an institution admin adds a user to an organisation."""

    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=64)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
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


class ApiKeyCreateForm(forms.Form):
    """Name a new API key."""

    name = forms.CharField(label=_("用途"), max_length=100, help_text=_("例如：信贷系统对接"))
