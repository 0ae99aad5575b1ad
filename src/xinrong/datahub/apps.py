from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatahubConfig(AppConfig):
    name = "xinrong.datahub"
    label = "datahub"
    verbose_name = _("信息归集")

    def ready(self) -> None:
        from xinrong.datahub import (
            rules,  # noqa: F401  (declares the data hub's permissions)
            workflows,  # noqa: F401  (registers conflicts and rows)
        )
        from xinrong.datahub.presenters import register_security_readers

        register_security_readers()
