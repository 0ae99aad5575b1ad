"""Policy documents and their support measures: create, edit, publish, withdraw; every version kept.

A publisher enters documents and measures for their own department. Status changes go through
the workflow kernel (``policies.workflows.catalogue``). Every change of a measure's terms bumps
``Measure.version`` and writes a ``MeasureVersion`` with the whole terms, closing the previous
version's ``in_force_to``: an enterprise is always judged by the version in force. Terms are
checked all at once and every problem names its field (``ValidationError`` keyed by field).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation
from xinrong.audit.services import audit_record
from xinrong.common.errors import PermissionDeniedError
from xinrong.enterprises.models import Tag
from xinrong.policies import conditions as cond
from xinrong.policies.choices import (
    Delivery,
    DocumentStatus,
    MeasureKind,
    MeasureStatus,
    PolicyLevel,
)
from xinrong.policies.models import Measure, MeasureVersion, PolicyDocument
from xinrong.policies.workflows.catalogue import DOCUMENT, MEASURE
from xinrong.reference import divisions
from xinrong.workflows.kernel import event_record, transition_apply

CENT = Decimal("0.01")
MONEY_MAX = Decimal("99999999999999.99")
# the terms a version holds, in the order a version comparison lists them
TERM_FIELDS: tuple[str, ...] = (
    "title",
    "kind",
    "delivery",
    "description",
    "amount",
    "ratio",
    "cap",
    "cap_per_loan",
    "budget",
    "window_start",
    "window_end",
    "materials",
    "contact",
    "tags",
    "conditions",
    "process_key",
)
MONEY_FIELDS = ("amount", "cap", "cap_per_loan", "budget")
DATE_FIELDS = ("window_start", "window_end")
DOCUMENT_FIELDS: tuple[str, ...] = (
    "title",
    "doc_number",
    "level",
    "co_issuers",
    "region_code",
    "issued_on",
    "effective_from",
    "effective_to",
    "summary",
    "full_text",
    "source_url",
    "is_pboc",
)


def _after_measure_change(measure: Measure) -> None:
    """Called after a measure is published, edited while published, or withdrawn.

    Queues the matching of this one measure over every entity (``policy_measure_rematch``), so
    matches are recomputed and new eligible enterprises pushed whenever a measure's terms or
    status change, without making the clerk wait for a pass over the whole registry. It runs
    after the transaction commits (``transaction.on_commit``).
    """
    from xinrong.policies.tasks import policy_measure_rematch

    policy_measure_rematch.enqueue(measure.pk)


def _schedule_after_change(measure: Measure) -> None:
    transaction.on_commit(lambda: _after_measure_change(measure))


# ---------------------------------------------------------------- checks


def tag_codes() -> set[str]:
    """Return the codes of the entity tags that exist (conditions may name only these)."""
    return set(Tag.objects.values_list("code", flat=True))


def _errors_add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _money(value: Any, field: str, label: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        _errors_add(errors, field, _("%(f)s必须是数字（元）") % {"f": label})
        return None
    if not number.is_finite():
        _errors_add(errors, field, _("%(f)s必须是数字（元）") % {"f": label})
        return None
    if number < 0:
        _errors_add(errors, field, _("%(f)s不能为负数") % {"f": label})
        return None
    if number > MONEY_MAX:
        _errors_add(errors, field, _("%(f)s过大") % {"f": label})
        return None
    if number != number.quantize(CENT):
        _errors_add(errors, field, _("%(f)s最多保留两位小数（分）") % {"f": label})
        return None
    return number.quantize(CENT)


def _date(value: Any, field: str, label: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        _errors_add(errors, field, _("%(f)s不是有效日期（如 2026-03-01）") % {"f": label})
        return None


def _text_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = value.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    else:
        parts = [str(v) for v in value]
    return [p.strip() for p in parts if p.strip()]


def measure_terms_check(
    data: Mapping[str, Any], *, tags_known: set[str] | None = None
) -> dict[str, Any]:
    """Return the cleaned terms of a measure, or raise ``ValidationError`` naming every problem.

    Rules: title and kind are required; money amounts are ≥ 0 with at most two decimals; the
    ratio is a fraction in (0, 1]; the application window's start is not after its end; the
    conditions pass ``conditions.validate`` (with the tags that exist); a money kind names a
    fixed amount or a ratio.
    """
    errors: dict[str, list[str]] = {}
    terms: dict[str, Any] = {}
    title = str(data.get("title") or "").strip()
    if not title:
        _errors_add(errors, "title", _("请填写措施名称"))
    elif len(title) > 200:
        _errors_add(errors, "title", _("措施名称不能超过200字"))
    terms["title"] = title
    kind = str(data.get("kind") or "")
    if kind not in MeasureKind.values:
        _errors_add(
            errors,
            "kind",
            _("措施类型只能是：%(v)s") % {"v": "、".join(str(x.label) for x in MeasureKind)},
        )
    terms["kind"] = kind
    delivery = str(data.get("delivery") or Delivery.APPLY)
    if delivery not in Delivery.values:
        _errors_add(errors, "delivery", _("兑现方式只能是“申请办理”或“免申即享”"))
    terms["delivery"] = delivery
    terms["description"] = str(data.get("description") or "").strip()
    labels = {
        "amount": _("定额金额"),
        "cap": _("单户上限"),
        "cap_per_loan": _("单笔贷款上限"),
        "budget": _("预算总额"),
    }
    for f in MONEY_FIELDS:
        terms[f] = _money(data.get(f), f, str(labels[f]), errors)
    ratio_raw = data.get("ratio")
    ratio: Decimal | None = None
    if ratio_raw not in (None, ""):
        try:
            ratio = ratio_raw if isinstance(ratio_raw, Decimal) else Decimal(str(ratio_raw).strip())
        except (InvalidOperation, ValueError):
            _errors_add(errors, "ratio", _("比例必须是数字，如 0.5 表示50%"))
        else:
            if not ratio.is_finite() or ratio <= 0 or ratio > 1:
                _errors_add(errors, "ratio", _("比例必须大于0且不超过1（如 0.5 表示50%）"))
                ratio = None
            elif ratio != ratio.quantize(Decimal("0.000001")):
                _errors_add(errors, "ratio", _("比例最多保留六位小数"))
                ratio = None
    terms["ratio"] = ratio
    start = _date(data.get("window_start"), "window_start", str(_("申报开始日期")), errors)
    end = _date(data.get("window_end"), "window_end", str(_("申报截止日期")), errors)
    if start and end and start > end:
        _errors_add(errors, "window_end", _("申报截止日期不能早于申报开始日期"))
    terms["window_start"], terms["window_end"] = start, end
    materials = _text_list(data.get("materials"))
    if len(materials) > 30:
        _errors_add(errors, "materials", _("申报材料最多30项"))
    terms["materials"] = materials
    contact = str(data.get("contact") or "").strip()
    if len(contact) > 200:
        _errors_add(errors, "contact", _("联系方式不能超过200字"))
    terms["contact"] = contact
    tags = _text_list(data.get("tags"))
    if len(tags) > 20:
        _errors_add(errors, "tags", _("标签最多20个"))
    terms["tags"] = tags
    conditions = data.get("conditions") or []
    problems = cond.validate(conditions, tag_codes=tags_known)
    for p in problems:
        _errors_add(errors, "conditions", p.message)
    terms["conditions"] = list(conditions) if isinstance(conditions, list) else []
    terms["process_key"] = str(data.get("process_key") or "").strip()[:64]
    money_kind = kind in (
        MeasureKind.SUBSIDY,
        MeasureKind.AWARD,
        MeasureKind.INTEREST_SUBSIDY,
        MeasureKind.GUARANTEE_FEE_SUBSIDY,
    )
    if money_kind and terms["amount"] is None and ratio is None and "amount" not in errors:
        _errors_add(errors, "amount", _("资金类措施须填写定额金额或比例"))
    if (
        terms["cap"] is not None
        and terms["budget"] is not None
        and terms["cap"] > terms["budget"]
        and "cap" not in errors
    ):
        _errors_add(errors, "cap", _("单户上限不能超过预算总额"))
    if errors:
        raise ValidationError(
            {f: [ValidationError(m, code="invalid") for m in ms] for f, ms in errors.items()}
        )
    return terms


def terms_json(terms: Mapping[str, Any]) -> dict[str, Any]:
    """Return the terms as JSON values (Decimals as text, dates ISO) for a version row."""
    out: dict[str, Any] = {}
    for f in TERM_FIELDS:
        v = terms.get(f)
        if isinstance(v, Decimal):
            v = str(v)
        elif isinstance(v, dt.date):
            v = v.isoformat()
        out[f] = v
    return out


def measure_terms(measure: Measure) -> dict[str, Any]:
    """Return the measure's current terms (model values)."""
    return {f: getattr(measure, f) for f in TERM_FIELDS}


def document_check(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a document's cleaned fields or raise ``ValidationError`` naming every problem."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    title = str(data.get("title") or "").strip()
    if not title:
        _errors_add(errors, "title", _("请填写文件标题"))
    elif len(title) > 200:
        _errors_add(errors, "title", _("文件标题不能超过200字"))
    out["title"] = title
    out["doc_number"] = str(data.get("doc_number") or "").strip()[:100]
    level = str(data.get("level") or "")
    if level not in PolicyLevel.values:
        _errors_add(
            errors,
            "level",
            _("层级只能是：%(v)s") % {"v": "、".join(str(x.label) for x in PolicyLevel)},
        )
    out["level"] = level
    out["co_issuers"] = str(data.get("co_issuers") or "").strip()[:300]
    region = str(data.get("region_code") or "").strip()
    if region and divisions.get(region) is None:
        _errors_add(errors, "region_code", _("适用地区不是有效的行政区划代码（GB/T 2260）"))
    out["region_code"] = region
    issued = _date(data.get("issued_on"), "issued_on", str(_("发布日期")), errors)
    if issued is None and "issued_on" not in errors:
        _errors_add(errors, "issued_on", _("请填写发布日期"))
    frm = _date(data.get("effective_from"), "effective_from", str(_("施行日期")), errors)
    if frm is None and "effective_from" not in errors:
        frm = issued
    to = _date(data.get("effective_to"), "effective_to", str(_("有效期至")), errors)
    if frm and to and to < frm:
        _errors_add(errors, "effective_to", _("有效期至不能早于施行日期"))
    out.update(issued_on=issued, effective_from=frm, effective_to=to)
    out["summary"] = str(data.get("summary") or "").strip()
    out["full_text"] = str(data.get("full_text") or "").strip()
    url = str(data.get("source_url") or "").strip()
    if url and not url.startswith(("http://", "https://")):
        _errors_add(errors, "source_url", _("原文链接须以 http:// 或 https:// 开头"))
    out["source_url"] = url[:300]
    out["is_pboc"] = bool(data.get("is_pboc"))
    if errors:
        raise ValidationError(
            {f: [ValidationError(m, code="invalid") for m in ms] for f, ms in errors.items()}
        )
    return out


# ---------------------------------------------------------------- documents


def _department_of(actor: Any) -> Organisation:
    org = getattr(actor, "organisation", None)
    if org is None or org.kind != OrgKind.GOVERNMENT:
        raise PermissionDeniedError("forbidden", _("仅政府部门的政策发布员可以录入政策"))
    assert isinstance(org, Organisation)
    return org


def document_create(
    *, actor: Any, data: Mapping[str, Any], attachment: Any = None
) -> PolicyDocument:
    """Create a draft policy document of the actor's department."""
    department = _department_of(actor)
    doc = PolicyDocument(department=department, created_by=actor)
    permissions.require(actor, "policies.catalogue_manage", doc)
    fields = document_check(data)
    with transaction.atomic():
        for k, v in fields.items():
            setattr(doc, k, v)
        if attachment is not None:
            doc.attachment = attachment
        doc.status = DocumentStatus.DRAFT
        doc.save()
        event_record(DOCUMENT, doc, "created", actor=actor, created=True)
    return doc


def document_update(
    *, actor: Any, document: PolicyDocument, data: Mapping[str, Any], attachment: Any = None
) -> PolicyDocument:
    """Edit a document's fields (any status; withdrawn documents stay withdrawn)."""
    permissions.require(actor, "policies.catalogue_manage", document)
    fields = document_check(data)
    with transaction.atomic():
        locked = PolicyDocument.objects.select_for_update().get(pk=document.pk)
        changed = [k for k, v in fields.items() if getattr(locked, k) != v]
        for k, v in fields.items():
            setattr(locked, k, v)
        if attachment is not None:
            locked.attachment = attachment
            changed.append("attachment")
        locked.save()
        if changed:
            event_record(DOCUMENT, locked, "edited", actor=actor, data={"fields": changed})
    return locked


def document_publish(*, actor: Any, document: PolicyDocument) -> PolicyDocument:
    """Publish a document (its measures are published one by one)."""
    transition_apply(DOCUMENT, document, "publish", actor=actor)
    return document


def document_withdraw(*, actor: Any, document: PolicyDocument, note: str) -> PolicyDocument:
    """Withdraw a document and, with it, every published measure of it."""
    with transaction.atomic():
        transition_apply(DOCUMENT, document, "withdraw", actor=actor, note=note)
        for m in Measure.objects.filter(document=document, status=MeasureStatus.PUBLISHED):
            transition_apply(MEASURE, m, "withdraw", actor=actor, note=note)
            _schedule_after_change(m)
    return document


# ---------------------------------------------------------------- measures


def _code_new() -> str:
    return "PM" + uuid.uuid4().hex[:10].upper()


def _version_write(measure: Measure, actor: Any, note: str, now: dt.datetime) -> MeasureVersion:
    MeasureVersion.objects.filter(measure=measure, in_force_to__isnull=True).update(in_force_to=now)
    return MeasureVersion.objects.create(
        measure=measure,
        version=measure.version,
        terms=terms_json(measure_terms(measure)),
        in_force_from=now,
        note=note[:300],
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def measure_create(
    *,
    actor: Any,
    document: PolicyDocument,
    terms: Mapping[str, Any],
    code: str = "",
    note: str = "",
    tags_known: set[str] | None = None,
) -> Measure:
    """Create a draft measure of a document with its first version."""
    permissions.require(actor, "policies.catalogue_manage", document)
    cleaned = measure_terms_check(
        terms, tags_known=tag_codes() if tags_known is None else tags_known
    )
    code = (code or "").strip().upper()[:40] or _code_new()
    with transaction.atomic():
        if Measure.objects.filter(code=code).exists():
            raise ValidationError({"code": [ValidationError(_("措施编号已被使用"), code="taken")]})
        measure = Measure(document=document, code=code, status=MeasureStatus.DRAFT, version=1)
        for k, v in cleaned.items():
            setattr(measure, k, v)
        measure.save()
        _version_write(measure, actor, note or str(_("首次录入")), timezone.now())
        event_record(
            MEASURE, measure, "created", actor=actor, created=True, event_fields={"version": 1}
        )
    return measure


def terms_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Return the term fields whose JSON values differ between two term sets."""
    a, b = terms_json(old), terms_json(new)
    return [f for f in TERM_FIELDS if a.get(f) != b.get(f)]


def measure_update(
    *,
    actor: Any,
    measure: Measure,
    terms: Mapping[str, Any],
    note: str = "",
    tags_known: set[str] | None = None,
) -> Measure:
    """Change a measure's terms: a new version when anything changed (nothing written if not)."""
    permissions.require(actor, "policies.catalogue_manage", measure)
    cleaned = measure_terms_check(
        terms, tags_known=tag_codes() if tags_known is None else tags_known
    )
    with transaction.atomic():
        locked = Measure.objects.select_for_update().select_related("document").get(pk=measure.pk)
        changed = terms_changed(measure_terms(locked), cleaned)
        if not changed:
            return locked
        for k, v in cleaned.items():
            setattr(locked, k, v)
        locked.version += 1
        locked.save()
        _version_write(locked, actor, note, timezone.now())
        audit_record(
            category="config",
            action="policies.measure_update",
            actor=actor,
            target_type="policies.measure",
            target_id=locked.pk,
            target_label=str(locked),
            details={"fields": changed, "version": locked.version},
        )
        event_record(
            MEASURE,
            locked,
            "edited",
            actor=actor,
            note=note,
            data={"fields": changed},
            event_fields={"version": locked.version},
        )
        if locked.status == MeasureStatus.PUBLISHED:
            _schedule_after_change(locked)
    measure.refresh_from_db()
    return locked


def measure_publish(*, actor: Any, measure: Measure) -> Measure:
    """Publish a measure (its document must be published)."""

    def stamp(m: Measure) -> None:
        m.published_at = m.published_at or timezone.now()

    with transaction.atomic():
        transition_apply(
            MEASURE,
            measure,
            "publish",
            actor=actor,
            update=stamp,
            event_fields={"version": measure.version},
        )
        _schedule_after_change(measure)
    return measure


def measure_withdraw(*, actor: Any, measure: Measure, note: str) -> Measure:
    """Withdraw a published measure (its matches are cleared by the rematch)."""
    with transaction.atomic():
        transition_apply(
            MEASURE,
            measure,
            "withdraw",
            actor=actor,
            note=note,
            event_fields={"version": measure.version},
        )
        _schedule_after_change(measure)
    return measure
