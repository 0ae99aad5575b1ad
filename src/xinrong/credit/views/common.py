"""Helpers the case pages share (disputes, repair)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404

from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.models import User
from xinrong.accounts.permissions import is_auditor, is_operator_admin
from xinrong.common.errors import error_payload
from xinrong.credit.forms import value_field_name
from xinrong.credit.models import DisputeEvidence, RepairEvidence


def form_error_add(form: forms.Form, exc: Exception) -> None:
    """Show a service error on its field; ``values.<key>`` maps to the value input of key.

    A ``ValidationError`` naming several fields (all the bad values of a correction) puts
    each message on its own field, so the form shows every error at once.
    """
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") and len(exc.error_dict) > 1:
        for name, errors in exc.error_dict.items():
            form_error_add(form, ValidationError({name: errors}))
        return
    _status, body = error_payload(exc)
    field = str(body["extra"].get("field") or "")
    if "." in field:
        field = value_field_name(field.split(".", 1)[1])
    if field == "fact_id":
        field = ""
    form.add_error(field if field in form.fields else None, body["message"])


def case_role(user: User) -> str:
    """Return how the user takes part in disputes: enterprise, handler, operator, auditor."""
    if user.group == OrgGroup.ENTERPRISE:
        return "enterprise"
    if is_operator_admin(user):
        return "operator"
    if is_auditor(user):
        return "auditor"
    return "handler"


def evidence_response(row: DisputeEvidence | RepairEvidence) -> FileResponse:
    try:
        handle = row.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=row.original_name, content_type=row.content_type
    )
