from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    name = "xinrong.common"
    label = "common"
    verbose_name = _("公共")

    def ready(self) -> None:
        from xinrong.common.forms import number_messages_install

        number_messages_install()
