"""What an audit entry is about."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditCategory(models.TextChoices):
    """The kind of event an audit entry records."""

    SECURITY = "security", _("账号与安全")
    DATA_READ = "data_read", _("信用信息查询")
    EXPORT = "export", _("数据导出")
    APPROVAL = "approval", _("审批")
    CONFIG = "config", _("配置变更")
