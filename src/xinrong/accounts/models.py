"""Users, organisations, roles and API keys."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import ORG_GROUP, OrgGroup, OrgKind, Role
from xinrong.common.access import RestrictedQuerySet
from xinrong.common.choices import register_colours
from xinrong.common.fields import EncryptedTextField
from xinrong.common.models import TimeStampedModel


class Organisation(TimeStampedModel):
    """A participant of the platform: an enterprise, an institution, a department, the operator."""

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=32, choices=OrgKind.choices, db_index=True)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, null=True, blank=True, unique=True
    )
    region_code = models.CharField(
        _("所在/管辖区划代码"),
        max_length=12,
        blank=True,
        default="",
        help_text=_("子站与政府部门只看本区划；为空表示全省/全国"),
    )
    industry_sections = models.JSONField(
        _("主管行业门类"),
        default=list,
        blank=True,
        help_text=_(
            "行业主管部门负责的国民经济行业门类（GB/T 4754 字母），用于信用培植；为空表示不限"
        ),
    )
    contact = models.CharField(
        _("联系人及电话"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("平台就账号、数据报送等事项联系的人，例如：李明 0971-1234567"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    capital_market_access = models.BooleanField(
        _("开放上市挂牌后备库"),
        default=False,
        help_text=_("由运营方决定：银行等金融机构可浏览上市挂牌后备库（投资机构始终可用）"),
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["kind", "name", "id"]
        indexes = [models.Index(fields=["kind", "name"], name="accounts_org_kind_name_idx")]
        constraints = [
            # institutions, departments and stations are known by their name; enterprises and
            # individual businesses may share one (their USCC tells them apart)
            models.UniqueConstraint(
                Lower("name"),
                condition=~Q(kind__in=["enterprise", "individual_business"]),
                name="accounts_org_unique_name",
                violation_error_message=_("机构名称已被其他机构使用"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def group(self) -> OrgGroup:
        """Return which side of the platform this organisation is on."""
        return ORG_GROUP[self.kind]


class User(AbstractUser):
    """A person who logs in; belongs to one organisation (superusers may have none)."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True, default="")
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    must_change_password = models.BooleanField(
        _("须修改密码"),
        default=False,
        help_text=_("以他人设定的一次性密码开立的账号，登录后须先修改密码才能使用平台"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_codes(self) -> frozenset[str]:
        """Return the codes of this user's roles (cached on the instance)."""
        cached: frozenset[str] | None = getattr(self, "_role_codes", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("role", flat=True))
            self._role_codes = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        """Return True if the user holds any of ``roles``."""
        return bool(self.role_codes.intersection(roles))

    @property
    def group(self) -> OrgGroup | None:
        """Return the platform side of the user's organisation."""
        return self.organisation.group if self.organisation_id and self.organisation else None

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Answer the platform's own permissions from the permission layer alone.

        Django's shortcut grants a superuser everything; the platform's permissions decide for
        superusers too (a superuser is the province-wide operator admin, not an enterprise), so
        they skip it. Django's model permissions (the admin site) keep the usual behaviour.
        """
        from xinrong.accounts import permissions

        if permissions.is_declared(perm):
            return permissions.can(self, perm, obj)
        return super().has_perm(perm, obj)

    def is_locked(self) -> bool:
        """Return True while a lockout after failed logins is in force from some address."""
        return LoginThrottle.objects.filter(
            username=self.username.lower(), locked_until__gt=timezone.now()
        ).exists()


class UserRole(TimeStampedModel):
    """One role held by a user inside its organisation."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")
        ordering = ["user_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_userrole_unique_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class ApiKey(TimeStampedModel):
    """A secret for an institution's system; only its hash is stored, shown once at creation."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=16, unique=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=64)
    signing_secret = EncryptedTextField(
        _("签名密钥"),
        blank=True,
        default="",
        help_text=_(
            "SM4 加密保存，用于校验请求签名；早于签名接口签发的密钥为空，只能以 X-API-Key 认证"
        ),
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    service_user = models.OneToOneField(
        User,
        verbose_name=_("服务账号"),
        on_delete=models.PROTECT,
        related_name="api_key",
        help_text=_("以此密钥调用接口时的身份；查询日志记在它名下"),
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("吊销人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                name="accounts_apikey_revoked_after_created",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """Return True if the key has not been revoked."""
        return self.revoked_at is None


class ApiNonce(models.Model):
    """A nonce a key has signed with; kept until its request's timestamp leaves the window."""

    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API 密钥"), on_delete=models.CASCADE, related_name="+"
    )
    nonce = models.CharField(_("随机串"), max_length=64)
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)

    class Meta:
        verbose_name = _("请求随机串")
        verbose_name_plural = _("请求随机串")
        ordering = ["expires_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "nonce"], name="accounts_apinonce_unique_nonce"
            )
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} · {self.nonce}"


class ApiIdempotencyRecord(models.Model):
    """The response to a write sent with an idempotency key; a retry gets it back unapplied."""

    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API 密钥"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("幂等键"), max_length=128)
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("路径"), max_length=500)
    status = models.PositiveSmallIntegerField(_("响应状态"))
    response = models.JSONField(_("响应内容"), default=dict)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"], name="accounts_apiidempotencyrecord_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} · {self.key} → {self.status}"


class LoginThrottle(models.Model):
    """Failed logins of one username from one source address, and the lock they earned.

    Kept for usernames that exist and for those that do not alike, so a lockout says nothing
    about which accounts exist; keyed by address too, so one attacker cannot lock an account
    for everyone else (docs/security.md, "Login").
    """

    username = models.CharField(_("用户名"), max_length=150)
    source_ip = models.GenericIPAddressField(_("来源地址"))
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0)
    last_failure_at = models.DateTimeField(_("最近失败时间"), null=True, blank=True)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    lockouts = models.PositiveIntegerField(
        _("已锁定次数"), default=0, help_text=_("每多锁定一次，锁定时长加倍")
    )

    class Meta:
        verbose_name = _("登录限制")
        verbose_name_plural = _("登录限制")
        ordering = ["username", "source_ip"]
        constraints = [
            models.UniqueConstraint(
                fields=["username", "source_ip"], name="accounts_loginthrottle_unique_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.source_ip}"

    def is_locked(self, now: Any = None) -> bool:
        """Return True while this username is locked from this address."""
        return bool(self.locked_until and self.locked_until > (now or timezone.now()))


class SecurityAction(models.TextChoices):
    """What was done to an account, a role, a login or a key."""

    ORGANISATION_CREATE = "organisation_create", _("创建机构")
    USER_CREATE = "user_create", _("创建账号")
    ENTERPRISE_LOGIN_ISSUE = "enterprise_login_issue", _("代开企业账号")
    USER_ROLES_CHANGE = "user_roles_change", _("变更角色")
    USER_UPDATE = "user_update", _("修改账号信息")
    USER_DISABLE = "user_disable", _("停用账号")
    USER_ENABLE = "user_enable", _("启用账号")
    ORGANISATION_UPDATE = "organisation_update", _("修改机构信息")
    ORGANISATION_DISABLE = "organisation_disable", _("停用机构")
    ORGANISATION_ENABLE = "organisation_enable", _("启用机构")
    SOURCE_REGISTER = "source_register", _("登记数据来源")
    SOURCE_UPDATE = "source_update", _("修改数据来源")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    LOGIN_SUCCESS = "login_success", _("登录成功")
    LOGIN_FAILURE = "login_failure", _("登录失败")
    LOGIN_LOCKOUT = "login_lockout", _("登录锁定")
    USER_UNLOCK = "user_unlock", _("解除锁定")
    LOGOUT = "logout", _("退出登录")
    API_KEY_ISSUE = "api_key_issue", _("签发 API 密钥")
    API_KEY_REVOKE = "api_key_revoke", _("吊销 API 密钥")
    OTP_ENROL = "otp_enrol", _("开启两步验证")
    OTP_DISABLE = "otp_disable", _("关闭两步验证")
    OTP_RESET = "otp_reset", _("重置两步验证")
    OTP_FAILURE = "otp_failure", _("动态验证码错误")
    RECOVERY_CODES_ISSUE = "recovery_codes_issue", _("生成恢复码")
    RECOVERY_CODE_USE = "recovery_code_use", _("使用恢复码登录")
    SSO_LOGIN = "sso_login", _("统一身份认证登录")
    SSO_LINK = "sso_link", _("关联统一身份认证账号")
    SSO_FAILURE = "sso_failure", _("统一身份认证登录失败")


register_colours(
    SecurityAction,
    {
        SecurityAction.LOGIN_FAILURE: "danger",
        SecurityAction.LOGIN_LOCKOUT: "danger",
        SecurityAction.OTP_FAILURE: "danger",
        SecurityAction.SSO_FAILURE: "danger",
        SecurityAction.OTP_DISABLE: "warning",
        SecurityAction.OTP_RESET: "warning",
        SecurityAction.RECOVERY_CODE_USE: "warning",
        SecurityAction.ENTERPRISE_LOGIN_ISSUE: "warning",
        SecurityAction.API_KEY_REVOKE: "warning",
        SecurityAction.USER_ROLES_CHANGE: "warning",
        SecurityAction.USER_DISABLE: "danger",
        SecurityAction.ORGANISATION_DISABLE: "danger",
        SecurityAction.USER_ENABLE: "success",
        SecurityAction.ORGANISATION_ENABLE: "success",
    },
)


class SecurityEventQuerySet(RestrictedQuerySet["SecurityEvent"]):
    """Security events are appended, never changed or removed."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("security events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("security events are append-only")


class SecurityEvent(models.Model):
    """One write to an account, a role, a login or a key: who, when, what, from where."""

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    action = models.CharField(
        _("操作"), max_length=32, choices=SecurityAction.choices, db_index=True
    )
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("操作人机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(
        _("账号名"),
        max_length=150,
        blank=True,
        default="",
        help_text=_("登录时填写的用户名，或被操作的账号名（账号删除后仍可查）"),
    )
    target_user = models.ForeignKey(
        User,
        verbose_name=_("对象账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("对象机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("对象密钥"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=300, blank=True, default="")

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("安全事件")
        verbose_name_plural = _("安全事件")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_user", "-created_at"], name="accounts_secevt_user_idx"),
            models.Index(
                fields=["target_organisation", "-created_at"], name="accounts_secevt_org_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.username}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a recorded event is never rewritten."""
        if not self._state.adding:
            raise PermissionError("security events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refuse: a recorded event is never removed."""
        raise PermissionError("security events are append-only")


class SsoIdentity(models.Model):
    """A login's link to an identity at the unified sign-on provider (issuer + subject).

    Made at the first sign-on, by the USCC or ID number the provider vouches for; later sign-ons
    find the login by this link alone (docs/sign-on.md).
    """

    issuer = models.CharField(_("认证平台"), max_length=255)
    subject = models.CharField(_("认证平台账号标识"), max_length=255)
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="sso_identities"
    )
    linked_at = models.DateTimeField(_("关联时间"), default=timezone.now)

    class Meta:
        verbose_name = _("统一身份认证关联")
        verbose_name_plural = _("统一身份认证关联")
        ordering = ["-linked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="accounts_ssoidentity_unique_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.issuer} · {self.subject} → {self.user_id}"
