from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "xinrong.workflows"
    label = "workflows"
    verbose_name = _("流程")

    def ready(self) -> None:
        from xinrong.workflows import rules  # noqa: F401  (declares the process permissions)
