"""The fraud report's workflow: an institution reports, the operator confirms or dismisses.

reported → confirmed (the entity goes on the black list, source 欺诈, at once) / dismissed.
Only an operator admin covering the entity's region decides (a sub-station: its region).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy

from xinrong.accounts.permissions import is_operator_admin
from xinrong.credit import rules_lists  # noqa: F401  (declares the list permissions first)
from xinrong.credit.models import FraudReport, FraudReportEvent, FraudStatus
from xinrong.credit.rules_lists import report_in_region
from xinrong.workflows.kernel import Action, Workflow, register

F = FraudStatus
REPORTED, CONFIRMED, DISMISSED = "reported", "confirmed", "dismissed"
EVENT_LABELS = {
    REPORTED: gettext_lazy("举报欺诈"),
    CONFIRMED: gettext_lazy("确认欺诈"),
    DISMISSED: gettext_lazy("不予认定"),
}
WHO = gettext_lazy("被举报企业所在地区的运营管理员")


def _link(report: FraudReport) -> str:
    return reverse("credit:fraud_detail", args=[report.pk])


FRAUD = register(
    Workflow(
        name="credit.fraud",
        label=gettext_lazy("欺诈举报"),
        model=FraudReport,
        event_model=FraudReportEvent,
        event_fk="report",
        statuses=FraudStatus,
        link=_link,
        refused_code="fraud_decided",
        actions=(
            Action(
                "confirm",
                (F.REPORTED,),
                F.CONFIRMED,
                is_operator_admin & report_in_region,
                gettext_lazy("确认欺诈"),
                event=CONFIRMED,
                needs_note=True,
                who=WHO,
            ),
            Action(
                "dismiss",
                (F.REPORTED,),
                F.DISMISSED,
                is_operator_admin & report_in_region,
                gettext_lazy("不予认定"),
                event=DISMISSED,
                needs_note=True,
                who=WHO,
            ),
        ),
    )
)
