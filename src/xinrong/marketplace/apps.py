from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "xinrong.marketplace"
    label = "marketplace"
    verbose_name = _("融资对接")

    def ready(self) -> None:
        from xinrong.marketplace import (
            rules,  # noqa: F401  (declares the marketplace permissions)
            workflows,  # noqa: F401  (registers the workflows)
        )
