from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskfundConfig(AppConfig):
    name = "xinrong.riskfund"
    label = "riskfund"
    verbose_name = _("风险补偿")

    def ready(self) -> None:
        from xinrong.riskfund import (
            guarantee_slots,
            rules,  # noqa: F401  (declares the risk-fund permissions)
            slots,
            workflows,  # noqa: F401  (registers the risk-fund workflows)
        )

        # panels on the loan application page (marketplace cannot import this app): whether the
        # loan is covered by the fund, then the loss order of a guaranteed loan
        slots.register()
        guarantee_slots.register()
