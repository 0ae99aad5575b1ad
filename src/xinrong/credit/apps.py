from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "xinrong.credit"
    label = "credit"
    verbose_name = _("信用信息")
