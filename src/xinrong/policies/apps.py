from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "xinrong.policies"
    label = "policies"
    verbose_name = _("政策支持")

    def ready(self) -> None:
        from xinrong.policies import (
            rules,  # noqa: F401  (declares the policy permissions)
            workflows,  # noqa: F401  (registers the policy workflows)
        )
