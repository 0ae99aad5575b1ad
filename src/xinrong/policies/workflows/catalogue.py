"""Workflows of the policy module: catalogue.

A policy document and each of its measures move 草稿 → 已发布 → 已撤回 (and may be published
again). Only the publisher of the owning department takes these actions; a measure is
published only while its document is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.common.errors import ApplicationError
from xinrong.policies.choices import DocumentStatus, MeasureStatus
from xinrong.policies.models import Measure, MeasureEvent, PolicyDocument, PolicyDocumentEvent
from xinrong.policies.rules.catalogue import is_policy_publisher, own_department
from xinrong.workflows.kernel import Action, Workflow, register

D = DocumentStatus
M = MeasureStatus
publisher = is_policy_publisher & own_department
WHO = gettext_lazy("本部门的政策发布员")


def _document_published(measure: Any, ctx: Mapping[str, Any]) -> None:
    """A measure goes public only with its document."""
    if measure.document.status != DocumentStatus.PUBLISHED:
        raise ApplicationError(
            "document_not_published",
            _("请先发布政策文件“%(t)s”，再发布其中的措施") % {"t": measure.document.title},
            {"field": "document"},
            status=409,
        )


DOCUMENT = register(
    Workflow(
        name="policies.document",
        label=gettext_lazy("政策文件"),
        model=PolicyDocument,
        event_model=PolicyDocumentEvent,
        event_fk="document",
        statuses=DocumentStatus,
        link=lambda d: reverse("policies:document_manage", args=[d.pk]),
        actions=(
            Action(
                "publish",
                (D.DRAFT, D.WITHDRAWN),
                D.PUBLISHED,
                publisher,
                gettext_lazy("发布政策文件"),
                who=WHO,
            ),
            Action(
                "withdraw",
                (D.PUBLISHED,),
                D.WITHDRAWN,
                publisher,
                gettext_lazy("撤回政策文件"),
                needs_note=True,
                who=WHO,
            ),
        ),
    )
)

MEASURE = register(
    Workflow(
        name="policies.measure",
        label=gettext_lazy("支持措施"),
        model=Measure,
        event_model=MeasureEvent,
        event_fk="measure",
        statuses=MeasureStatus,
        link=lambda m: reverse("policies:measure_manage", args=[m.pk]),
        actions=(
            Action(
                "publish",
                (M.DRAFT, M.WITHDRAWN),
                M.PUBLISHED,
                publisher,
                gettext_lazy("发布支持措施"),
                guards=(_document_published,),
                who=WHO,
            ),
            Action(
                "withdraw",
                (M.PUBLISHED,),
                M.WITHDRAWN,
                publisher,
                gettext_lazy("撤回支持措施"),
                needs_note=True,
                who=WHO,
            ),
        ),
    )
)
