from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "xinrong.evaluations"
    label = "evaluations"
    verbose_name = _("融资评价")

    def ready(self) -> None:
        from xinrong.evaluations import (  # noqa: F401  (appeal workflow)
            rules,
            slots,
            workflows,
        )

        slots.register()
