from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "xinrong.accounts"
    label = "accounts"
    verbose_name = _("账户与机构")

    def ready(self) -> None:
        from xinrong.accounts import rules  # noqa: F401  (declares the accounts permissions)
