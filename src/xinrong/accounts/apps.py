from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "xinrong.accounts"
    label = "accounts"
    verbose_name = _("账户与机构")

    def ready(self) -> None:
        from xinrong.accounts import (  # noqa: F401  (declare the accounts permissions)
            rules,
            rules_audit,
        )
