from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "xinrong.marketplace"
    label = "marketplace"
    verbose_name = _("融资对接")
