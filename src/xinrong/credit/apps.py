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
            workflows_fraud,  # noqa: F401  (lists: permissions and the fraud workflow)
            workflows_repair,  # noqa: F401  (registers the repair workflow)
        )
        from xinrong.credit.tasks import on_batch_completed
        from xinrong.datahub.signals import batch_completed

        batch_completed.connect(on_batch_completed, dispatch_uid="credit.rescore_batch")
        from xinrong.credit.tasks_lists import on_batch_lists

        batch_completed.connect(on_batch_lists, dispatch_uid="credit.lists_batch")
