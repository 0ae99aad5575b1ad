from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "xinrong.credit"
    label = "credit"
    verbose_name = _("信用信息")

    def ready(self) -> None:
        from xinrong.credit import (
            rules,  # noqa: F401  (declares the credit permissions)
            workflows,  # noqa: F401  (registers disputes and cultivation)
            workflows_repair,  # noqa: F401  (registers the repair workflow)
        )
        from xinrong.credit.tasks import on_batch_completed
        from xinrong.datahub.signals import batch_completed

        batch_completed.connect(on_batch_completed, dispatch_uid="credit.rescore_batch")
