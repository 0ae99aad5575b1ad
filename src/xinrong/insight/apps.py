from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "xinrong.insight"
    label = "insight"
    verbose_name = _("统计与洞察")

    def ready(self) -> None:
        from xinrong.insight import rules  # noqa: F401  (declares the insight permissions)
