from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "xinrong.enterprises"
    label = "enterprises"
    verbose_name = _("市场主体库")

    def ready(self) -> None:
        from xinrong.enterprises import (
            rules,  # noqa: F401  (declares the registry permissions)
            sso_links,
        )

        sso_links.register()  # unified sign-on finds logins by USCC / ID number here
