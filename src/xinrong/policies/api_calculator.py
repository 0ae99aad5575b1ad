"""The policy calculator as a public JSON endpoint (no login; the lead mounts ``router`` at
``/api/v1/policies/``): answers in, the measures that would apply and the near misses out.

Bad answers get 422 ``{code, message, extra: {field, fields: {name: message}}}`` naming every
bad field at once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from xinrong.common.errors import ApplicationError
from xinrong.policies.selectors import matching as selectors

router = Router(tags=["policies"])


class CalculatorIn(Schema):
    """The calculator's answers (codes as in the reference data)."""

    entity_type: str | None = None  # enterprise / individual_business
    industry: str | None = None  # GB/T 4754-2017: a section ("C") or division ("C13")
    region: str | None = None  # GB/T 2260 division code
    size_class: str | None = None  # large / medium / small / micro
    years_in_business: str | float | None = None
    employees: str | int | None = None


class MissingOut(Schema):
    field: str
    text: str


class MeasureItemOut(Schema):
    code: str
    title: str
    kind: str
    kind_label: str
    delivery: str
    delivery_label: str
    document: str
    department: str
    estimated_amount: Decimal | None
    cap: Decimal | None
    window_end: str | None
    missing: list[MissingOut]
    unasked: list[str]


class CalculatorOut(Schema):
    eligible: list[MeasureItemOut]
    near: list[MeasureItemOut]


class CalculatorErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, Any]


def _item(item: selectors.Item) -> dict[str, Any]:
    m = item.measure
    return {
        "code": m.code,
        "title": m.title,
        "kind": m.kind,
        "kind_label": str(m.get_kind_display()),
        "delivery": m.delivery,
        "delivery_label": str(m.get_delivery_display()),
        "document": m.document.title,
        "department": m.document.department.name,
        "estimated_amount": item.estimated_amount,
        "cap": m.cap,
        "window_end": m.window_end.isoformat() if m.window_end else None,
        "missing": item.missing,
        "unasked": item.unasked,
    }


@router.post(
    "/calculator",
    response={200: CalculatorOut, 422: CalculatorErrorOut},
    auth=None,
    summary="政策计算器（公开接口，无需认证）：按回答列出可能适用和只差一项条件的政策措施",
)
def calculator(request: HttpRequest, payload: CalculatorIn) -> Any:
    try:
        answers = selectors.calculator_answers_parse(payload.dict())
    except ApplicationError as exc:
        fields = exc.extra.get("fields", {})
        extra = {"field": next(iter(fields), ""), "fields": fields}
        return Status(422, {"code": exc.code, "message": exc.message, "extra": extra})
    result = selectors.calculator_for_answers(answers=answers)
    return {
        "eligible": [_item(i) for i in result.eligible],
        "near": [_item(i) for i in result.near],
    }
