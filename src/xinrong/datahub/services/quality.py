"""Data quality writes: associate or discard unresolved rows, correct stored facts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.datahub import columnar, row_rules
from xinrong.datahub import rows as row_io
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.choices import BatchStatus
from xinrong.datahub.crossval import conflicts_detect
from xinrong.datahub.models import Fact, UnresolvedRow
from xinrong.datahub.services.facts import facts_store
from xinrong.datahub.workflows import UNRESOLVED_ROW
from xinrong.enterprises.models import MarketEntity
from xinrong.reference import uscc as uscc_codec
from xinrong.workflows.kernel import transition_apply


def unresolved_resolve(*, row: UnresolvedRow, uscc: str, actor: User) -> Fact | None:
    """Attach a waiting row to the entity with this USCC and store it as a fact.

    Returns None when the same row is already a fact (it is then only closed). The move goes
    through the kernel (``datahub.unresolved_row``); its guard checks the USCC names a
    registered entity, and the event keeps the code the row was associated with.
    """
    stored: list[Fact | None] = []

    def update(locked: UnresolvedRow) -> None:
        code = uscc_codec.parse(uscc).code
        entity = MarketEntity.objects.get(uscc=code)
        batch = locked.batch
        spec = CATEGORIES[batch.category]
        values = {f.key: locked.values.get(f.key) or None for f in spec.all_fields}
        values["uscc"] = code
        cols = {k: pa.array([v], pa.string()) for k, v in values.items()}
        digest = columnar.hash64(columnar.canonical_rows(spec.code, cols))
        new = facts_store(
            batch=batch,
            spec=spec,
            values=cols,
            entity_ids=np.array([entity.pk], dtype=np.int64),
            hashes=digest,
        )
        stored.append(
            Fact.objects.get(
                entity=entity, category=spec.code, source=batch.source, row_hash=int(digest[0])
            )
            if new
            else None
        )
        locked.resolved_entity = entity
        locked.resolved_by = actor

    transition_apply(
        UNRESOLVED_ROW,
        row,
        "associate",
        actor=actor,
        data={"uscc": uscc.strip()},
        update=update,
    )
    return stored[0]


def unresolved_discard(*, row: UnresolvedRow, actor: User) -> UnresolvedRow:
    """Close a waiting row without storing it (e.g. the subject is not a market entity)."""

    def update(locked: UnresolvedRow) -> None:
        locked.resolved_by = actor

    discarded: UnresolvedRow = transition_apply(
        UNRESOLVED_ROW, row, "discard", actor=actor, update=update
    ).obj
    return discarded


# ---------------------------------------------------------------- corrections


@dataclass(frozen=True)
class FactCorrection:
    """What a correction changed: the row before and after (canonical text) and the keys."""

    fact: Fact
    before: dict[str, str]
    after: dict[str, str]
    changed: tuple[str, ...]


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Typed columns stored as text; the others are nullable numbers and dates, or the flag.
_TEXT_COLUMNS = frozenset({"period", "grade", "status", "reference_no"})


def fact_values_check(
    *,
    category: str,
    changes: dict[str, Any],
    field_prefix: str = "values",
    current: dict[str, str] | None = None,
) -> dict[str, str]:
    """Validate new values for a fact's fields by its category's rules; return canonical text.

    Keys are the category's field keys (not the identity columns); an empty value clears an
    optional field. Each value goes through ``rows.parse_field``, the rule every delivered cell
    obeys, and the row as it would stand (``current`` with the changes) through the category's
    row rules (``row_rules``: a penalty's publication end between its decision and the maximum
    period). Errors name the field as ``<field_prefix>.<key>``; several errors are raised
    together (a ``ValidationError`` by field), so a form shows them all at once.
    """
    spec = CATEGORIES.get(category)
    if spec is None:
        raise ApplicationError(
            "unknown_category",
            _("未知的数据类别：%(c)s") % {"c": category},
            {"field": "category"},
            status=422,
        )
    allowed = {f.key: f for f in spec.fields}
    out: dict[str, str] = {}
    errors: list[ApplicationError] = []
    for key, raw in changes.items():
        try:
            text = _value_check(spec.name, allowed, str(key), raw, field_prefix)
        except ApplicationError as exc:
            errors.append(exc)
            continue
        if text is not None:
            out[str(key)] = text
    row = {**(current or {}), **{k: v for k, v in out.items()}}
    bad = {e.extra.get("field") for e in errors}
    for key, rule in row_rules.row_errors(category, row):
        name = f"{field_prefix}.{key}"
        if name in bad:
            continue
        errors.append(
            ApplicationError(
                "invalid_value",
                _("“%(h)s”的值“%(v)s”不正确：%(rule)s")
                % {"h": _(allowed[key].header), "v": row.get(key, "")[:50], "rule": rule},
                {"field": name},
                status=422,
            )
        )
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ValidationError(
            {str(e.extra["field"]): ValidationError(e.message, code=e.code) for e in errors}
        )
    return out


def _value_check(
    category_name: str, allowed: dict[str, Any], key: str, raw: Any, field_prefix: str
) -> str | None:
    """Return one new value as canonical text ("" clears it); raise naming the field."""
    name = f"{field_prefix}.{key}"
    f = allowed.get(key)
    if f is None:
        raise ApplicationError(
            "unknown_field",
            _("字段“%(k)s”不属于“%(c)s”信息；可填写的字段：%(keys)s")
            % {
                "k": key,
                "c": _(category_name),
                "keys": "、".join(f"{x.key}（{_(x.header)}）" for x in allowed.values()),
            },
            {"field": name},
            status=422,
        )
    if raw is None:
        text = ""
    elif isinstance(raw, bool):
        text = "是" if raw else "否"
    elif isinstance(raw, str | int | float | Decimal):
        text = str(raw).strip()
    else:
        raise ApplicationError(
            "invalid_value",
            _("“%(h)s”应为文本或数字") % {"h": _(f.header)},
            {"field": name},
            status=422,
        )
    if _CONTROL_CHARS.search(text) or _has_surrogate(text):
        raise ApplicationError(
            "invalid_value",
            _("“%(h)s”不能包含控制字符或无效字符") % {"h": _(f.header)},
            {"field": name},
            status=422,
        )
    if not text:
        if f.required:
            raise ApplicationError(
                "required_field",
                _("“%(h)s”为必填项，不能清空") % {"h": _(f.header)},
                {"field": name},
                status=422,
            )
        return ""
    try:
        value = row_io.parse_field(f, text)
    except ValueError as exc:
        raise ApplicationError(
            "invalid_value",
            _("“%(h)s”的值“%(v)s”不正确：%(rule)s")
            % {"h": _(f.header), "v": text[:50], "rule": exc},
            {"field": name},
            status=422,
        ) from exc
    return str(columnar.canonical(value))


def _has_surrogate(text: str) -> bool:
    """Return True for text with lone surrogates (not storable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@transaction.atomic
def fact_correct(*, fact: Fact, changes: dict[str, Any], actor: User) -> FactCorrection:
    """Correct a stored fact's values (a department answering a dispute, or the operator).

    The new values obey the category's rules; the typed columns, ``data``, negativity and
    retention date are rebuilt exactly as ingestion builds them. ``row_hash`` keeps the hash
    of the row as delivered, so a later re-delivery of the same wrong row stays a duplicate
    instead of bringing the wrong value back. Cross-validation reruns for the changed fields.
    """
    fact = Fact.objects.select_for_update().select_related("source", "batch").get(pk=fact.pk)
    if fact.batch.status != BatchStatus.COMPLETED:
        raise NotFoundError("fact_not_found", _("信用信息不存在"), {"field": "fact"})
    if not permissions.can(actor, "datahub.fact_correct", fact.source):
        raise PermissionDeniedError(
            "forbidden",
            _("只有“%(o)s”的数据报送员或平台运营管理员可以更正该信息")
            % {"o": fact.source.organisation},
        )
    spec = CATEGORIES[fact.category]
    before = fact.values()
    checked = fact_values_check(category=fact.category, changes=changes, current=before)
    after = dict(before)
    for key, text in checked.items():
        if text:
            after[key] = text
        else:
            after.pop(key, None)
    changed = tuple(k for k in checked if before.get(k) != after.get(k))
    if not changed:
        raise ApplicationError(
            "nothing_changed", _("更正后的值与原值相同"), {"field": "values"}, status=422
        )
    data = dict(fact.data)
    for f in spec.fields:
        text = after.get(f.key, "")
        if not f.column:
            if text:
                data[f.key] = text
            else:
                data.pop(f.key, None)
            continue
        if text:
            value = row_io.parse_field(f, text)
            if f.column in ("amount", "arrears", "quantity"):
                value = Decimal(value)
        else:
            value = "" if f.column in _TEXT_COLUMNS else (False if f.column == "flag" else None)
        setattr(fact, f.column, value)
    typed = columnar.fact_columns(
        spec, {f.key: pa.array([after.get(f.key)], pa.string()) for f in spec.all_fields}
    )
    fact.negative = bool(typed["negative"][0].as_py())
    retention = typed["retention_until"][0].as_py()
    fact.retention_until = dt.date.fromisoformat(retention) if retention else None
    fact.data = data
    fact.save(
        update_fields=[
            *sorted({f.column for f in spec.fields if f.column}),
            "negative",
            "retention_until",
            "data",
        ]
    )
    conflicts_detect([fact.entity_id], delivered={(spec.code, k) for k in changed})
    return FactCorrection(fact=fact, before=before, after=after, changed=changed)
