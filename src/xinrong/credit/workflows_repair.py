"""Credit repair on the workflow kernel, its steps decided by the BPMN approval process.

A repair application stays 待审核 while its case moves through the active version of the
``credit.repair_approval`` process (xinrong.workflows.engine): the department that holds the
record reviews it, a second reviewer looks again when the enterprise has many penalty records,
the operator confirms. Each completed step is a kernel action on the application, so the
timeline (RepairEvent) and the enterprise's notices follow the process:

- ``review``: a step agreed and the case moves on (the status stays 待审核);
- ``approve``: the process ended approved (准予修复);
- ``reject``: a step refused and the process ended (不予修复).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import is_data_provider, is_department, is_operator_admin
from xinrong.credit import recipients, rules
from xinrong.credit.choices import RepairStatus
from xinrong.credit.models import RepairApplication, RepairEvent
from xinrong.workflows import engine
from xinrong.workflows.kernel import Action, Notice, Workflow, register

PROCESS_KEY = "credit.repair_approval"
S = RepairStatus


def repair_may(user: Any, application: RepairApplication) -> bool:
    """The object check under the lane mapping: the department must hold the record.

    A data provider acts only for the department that delivered the record; an operator
    admin only within its region; anyone else the process names (a role or a person in a
    lane the operator configured) is decided by the lane mapping alone.
    """
    if is_data_provider(user):
        return rules.is_source_handler(user, application.source)
    if is_operator_admin(user):
        return rules.operator_covers(user, application.entity)
    return True


def takes_part(user: Any, application: RepairApplication | None) -> bool:
    """The user completes a step of this application's approval process (or just did)."""
    if application is None:
        return bool(is_department(user) or is_operator_admin(user))
    instance = engine.instance_for(application)
    if instance is None:
        return False
    if instance.actors and instance.actors[-1].get("user") == user.pk:
        return True  # the step the user has just completed, in this transaction
    return any(
        engine.user_matches(user, task) and repair_may(user, application)
        for task in engine.open_tasks(instance)
    )


def _link(application: RepairApplication) -> str:
    return reverse("credit:repair_detail", args=[application.pk])


def _enterprise(application: RepairApplication) -> list[Any]:
    return recipients.entity_users(entity=application.entity)


def _department(application: RepairApplication) -> list[Any]:
    """The people of the department that holds the record (told the final outcome)."""
    return recipients.handler_users(source=application.source, entity=application.entity)


REPAIR = register(
    Workflow(
        name="credit.repair",
        label=_("信用修复"),
        model=RepairApplication,
        event_model=RepairEvent,
        event_fk="application",
        statuses=RepairStatus,
        link=_link,
        actions=(
            Action(
                "review",
                (S.SUBMITTED,),
                None,
                takes_part,
                _("审核同意"),
                event="reviewed",
                notices=(
                    Notice(
                        _enterprise,
                        _("信用修复申请已通过一步审核，进入下一环节"),
                        "{note}",
                        kind="repair.reviewed",
                    ),
                ),
            ),
            Action(
                "approve",
                (S.SUBMITTED,),
                S.APPROVED,
                takes_part,
                _("准予修复"),
                event="approved",
                notices=(
                    Notice(
                        _enterprise,
                        _("信用修复申请已通过：该处罚信息不再公示"),
                        "{note}",
                        kind="repair.approved",
                    ),
                    Notice(
                        _department,
                        _("经审批准予修复：{obj}，该处罚信息不再向机构公示"),
                        "{note}",
                        kind="repair.approved",
                    ),
                ),
            ),
            Action(
                "reject",
                (S.SUBMITTED,),
                S.REJECTED,
                takes_part,
                _("不予修复"),
                event="rejected",
                needs_note=True,
                notices=(
                    Notice(_enterprise, _("信用修复申请未通过"), "{note}", kind="repair.rejected"),
                    Notice(
                        _department,
                        _("经审批不予修复：{obj}"),
                        "{note}",
                        kind="repair.rejected",
                    ),
                ),
            ),
        ),
    )
)
