"""Cross-validation (交叉验证): rules as data that flag disagreements between sources.

Each rule reads, for a set of entities, the registry and the latest visible facts in a few
queries, and returns the conflicts it finds. ``conflicts_detect`` runs every rule for the
entities a batch touched and stores new conflicts (a conflict already recorded is not repeated).

A conflict's fingerprint is the SHA-256 of the part of its ``detail`` that identifies the
finding (``Rule.identity``: for registry-vs-tax rules the compared values, not the tax period
they were read from), unique per (entity, rule). The same finding raised again — next month's
tax data still declaring the same other address — matches the stored conflict whatever its
status, so a difference someone explained stays explained; a finding with other values is a new
conflict, open until handled.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Max, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from xinrong.datahub.choices import ConflictStatus
from xinrong.datahub.models import Conflict, Fact
from xinrong.datahub.selectors import fact_visible
from xinrong.datahub.services.conflicts import conflicts_found_notify, conflicts_recur
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.names import name_key

Finding = tuple[int, list[str], dict[str, Any]]  # (entity id, source codes, detail)


class _Chunk:
    """The entities of one detection pass, with the registry and latest facts read once."""

    def __init__(self, entity_ids: list[int]) -> None:
        self.ids = entity_ids
        self._registry: dict[int, MarketEntity] | None = None
        self._latest: dict[str, dict[int, Fact]] = {}

    def registry(self) -> dict[int, MarketEntity]:
        if self._registry is None:
            self._registry = _registry(self.ids)
        return self._registry

    def latest(self, category: str) -> dict[int, Fact]:
        if category not in self._latest:
            self._latest[category] = _latest(category, self.ids)
        return self._latest[category]


@dataclass(frozen=True)
class Rule:
    """One cross-validation rule."""

    id: str
    description: str
    severity: str  # "high" | "medium" | "low"
    check: Callable[[_Chunk], Iterable[Finding]]
    # the (category, field) values it compares: a delivery without any of them can only replace
    # the latest fact by one lacking the value, which never raises a new conflict
    reads: frozenset[tuple[str, str]]
    # the detail keys each named source contributes, in the order of the finding's sources
    sides: tuple[tuple[str, ...], ...] = ()
    # the detail keys that identify the finding (None: all of them); what is left out, such as
    # the period a value was read from, does not make a recurring finding a new conflict
    identity: tuple[str, ...] | None = None


def _latest(category: str, entity_ids: list[int]) -> dict[int, Fact]:
    """Return each entity's most recent visible fact of a category, ranked in the database."""
    ranked = (
        fact_visible()
        .filter(category=category, entity_id__in=entity_ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("entity_id")],
                order_by=[
                    F("period").desc(),
                    F("occurred_on").desc(nulls_last=True),
                    F("id").desc(),
                ],
            )
        )
        .filter(rank=1)
        .select_related("source")
    )
    return {f.entity_id: f for f in ranked}


def _registry(entity_ids: list[int]) -> dict[int, MarketEntity]:
    return {
        e.pk: e
        for e in MarketEntity.objects.filter(pk__in=entity_ids).select_related(
            "legal_representative"
        )
    }


def _squash(text: str) -> str:
    return name_key(text).replace("号", "")


def _registry_vs_tax(field: str, label: str) -> Callable[[_Chunk], Iterable[Finding]]:
    def check(chunk: _Chunk) -> Iterable[Finding]:
        registry = chunk.registry()
        for eid, fact in chunk.latest("tax").items():
            declared = fact.data.get(field, "")
            entity = registry.get(eid)
            if not declared or entity is None:
                continue
            if field == "legal_rep_name":
                recorded = entity.legal_representative.name if entity.legal_representative else ""
            elif field == "address":
                recorded = entity.address
            else:
                recorded = entity.name
            if recorded and _squash(declared) != _squash(recorded):
                yield (
                    eid,
                    ["registry", fact.source.code],
                    {"field": label, "registry": recorded, "tax": declared, "period": fact.period},
                )

    return check


def _employees_vs_insured(chunk: _Chunk) -> Iterable[Finding]:
    tax = chunk.latest("tax")
    insured = chunk.latest("social_security")
    for eid, t in tax.items():
        s = insured.get(eid)
        if s is None or t.quantity is None or s.quantity is None:
            continue
        declared, covered = t.quantity, s.quantity
        if declared - covered > max(Decimal(5), declared / 2):
            yield (
                eid,
                [t.source.code, s.source.code],
                {
                    "declared_employees": str(declared),
                    "insured": str(covered),
                    "tax_period": t.period,
                    "insurance_period": s.period,
                },
            )


def _deregistered_but_billed(chunk: _Chunk) -> Iterable[Finding]:
    gone = {
        pk
        for pk, e in chunk.registry().items()
        if e.registration_status in ("cancelled", "revoked")
    }
    if not gone:
        return
    rows = (
        fact_visible()
        .filter(category="utility", entity_id__in=gone, amount__gt=0)
        .values("entity_id", "source__code")
        .annotate(last=Max("period"))
    )
    for row in rows:
        yield row["entity_id"], ["registry", row["source__code"]], {"last_period": row["last"]}


RULES: tuple[Rule, ...] = (
    Rule(
        "legal_rep_mismatch",
        N_("登记与纳税信息的法定代表人不一致"),
        "high",
        _registry_vs_tax("legal_rep_name", N_("法定代表人")),
        frozenset({("tax", "legal_rep_name")}),
        (("registry",), ("tax", "period")),
        ("field", "registry", "tax"),
    ),
    Rule(
        "address_mismatch",
        N_("登记住所与纳税生产经营地址不一致"),
        "low",
        _registry_vs_tax("address", N_("住所")),
        frozenset({("tax", "address")}),
        (("registry",), ("tax", "period")),
        ("field", "registry", "tax"),
    ),
    Rule(
        "name_mismatch",
        N_("纳税信息中的名称与登记名称不一致"),
        "medium",
        _registry_vs_tax("name", N_("名称")),
        frozenset({("tax", "name")}),
        (("registry",), ("tax", "period")),
        ("field", "registry", "tax"),
    ),
    Rule(
        "employees_vs_insured",
        N_("申报从业人数明显多于参保人数"),
        "medium",
        _employees_vs_insured,
        frozenset({("tax", "employees"), ("social_security", "insured")}),
        (("declared_employees", "tax_period"), ("insured", "insurance_period")),
    ),
    Rule(
        "deregistered_billed",
        N_("已注销或吊销的主体仍在产生水电气费用"),
        "high",
        _deregistered_but_billed,
        frozenset({("utility", "billed")}),
        ((), ("last_period",)),
        (),
    ),
)
RULES_BY_ID = {r.id: r for r in RULES}
SEVERITY_LABELS = {"high": _("高"), "medium": _("中"), "low": _("低")}
DETAIL_LABELS = {
    "field": _("比对项"),
    "registry": _("登记信息"),
    "tax": _("纳税信息"),
    "period": _("所属期"),
    "declared_employees": _("申报从业人数"),
    "insured": _("参保人数"),
    "tax_period": _("纳税所属期"),
    "insurance_period": _("参保所属期"),
    "last_period": _("最近计费所属期"),
}


def fingerprint(rule: Rule, detail: dict[str, Any]) -> str:
    """Return the identity of a finding (see the module's docstring)."""
    keys = detail.keys() if rule.identity is None else rule.identity
    part = {k: detail.get(k) for k in keys}
    return hashlib.sha256(
        json.dumps(part, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def _reopen_recurring_errors(
    found: list[Conflict], stored: dict[tuple[int, str, str], tuple[int, str, dict[str, Any]]]
) -> None:
    """Open again a conflict a department confirmed as its error when the same wrong value comes
    in newer data (other detail, e.g. a later period): the correction has not arrived. An
    explained or dismissed finding stays closed; the same delivery again changes nothing."""
    again = []
    for c in found:
        pk, status, detail = stored.get((c.entity_id, c.rule, c.fingerprint), (0, "", {}))
        if status == ConflictStatus.CONFIRMED_ERROR and detail != c.detail:
            again.append((pk, c.detail))
    if not again:
        return
    conflicts_recur(again=again)


def conflicts_detect(
    entity_ids: Iterable[int],
    *,
    delivered: set[tuple[str, str]] | None = None,
    chunk: int = 2000,
    submitter_id: int | None = None,
) -> int:
    """Run the rules for these entities; store new conflicts and return how many.

    With ``delivered`` (the (category, field) values a delivery brought), only the rules
    reading one of them run. The departments whose sources the new conflicts involve are told
    that conflicts await them (one notice per department; not ``submitter_id``, the person who
    delivered, whose batch notice counts them).
    """
    rules = [r for r in RULES if delivered is None or r.reads & delivered]
    ids = sorted(set(entity_ids)) if rules else []
    created = 0
    by_source: Counter[str] = Counter()
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        context = _Chunk(part)
        found = [
            Conflict(
                entity_id=eid,
                rule=rule.id,
                severity=rule.severity,
                sources=sources,
                detail=detail,
                fingerprint=fingerprint(rule, detail),
            )
            for rule in rules
            for eid, sources, detail in rule.check(context)
        ]
        if not found:
            continue
        keys = {(c.entity_id, c.rule, c.fingerprint) for c in found}
        stored = {
            (eid, rule, fp): (pk, status, detail)
            for pk, eid, rule, fp, status, detail in Conflict.objects.filter(
                entity_id__in=part
            ).values_list("pk", "entity_id", "rule", "fingerprint", "status", "detail")
        }
        new = [c for c in found if (c.entity_id, c.rule, c.fingerprint) not in stored]
        _reopen_recurring_errors(found, stored)
        Conflict.objects.bulk_create(new, ignore_conflicts=True)
        fresh = {(c.entity_id, c.rule, c.fingerprint): c for c in new}
        created += len(fresh.keys() & keys)
        by_source.update(code for c in fresh.values() for code in c.sources)
    conflicts_found_notify(by_source=by_source, submitter_id=submitter_id)
    return created
