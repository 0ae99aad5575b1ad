"""The 贴息 batch's workflow: calculated → every line answered by its lender → granted."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import predicate
from xinrong.policies.choices import SubsidyBatchStatus as S
from xinrong.policies.models import SubsidyBatch, SubsidyBatchEvent
from xinrong.policies.rules.pboc import subsidy_manager
from xinrong.workflows.kernel import Action, Workflow, register


@predicate
def _nobody(user: Any, obj: Any = None) -> bool:
    """Only the platform itself (when the last line is answered)."""
    return False


def _link(batch: Any) -> str:
    return reverse("policies:subsidy_batch", args=[batch.pk])


SUBSIDY_BATCH = register(
    Workflow(
        name="policies.subsidy_batch",
        label=_("贷款贴息批次"),
        model=SubsidyBatch,
        event_model=SubsidyBatchEvent,
        event_fk="batch",
        statuses=S,
        link=_link,
        actions=(
            Action(
                "settle",
                (S.CALCULATED,),
                S.CONFIRMED,
                _nobody,
                _("全部明细已由机构确认"),
                system=True,
            ),
            Action(
                "grant",
                (S.CONFIRMED,),
                S.GRANTED,
                subsidy_manager,
                _("兑现贴息"),
                who=_("措施所属部门的政策发布员、资金审批人或平台运营管理员"),
            ),
        ),
    )
)
