"""Early-warning rules (风险预警) as data, evaluated after every ingestion batch.

Each rule has an id, a description, a severity and a check. A check reads the batch's new facts
(or the entities' score history) and returns (entity id, detail) findings. Rules about a state
(tax grade D, arrears) fire when an entity *enters* it, not again for every month it stays.
Every institution holding a live authorisation or an outstanding loan for that entity gets an
alert. An alert already raised for the same rule and fingerprint is not raised again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from xinrong.credit.graph.circles import guarantee_circles
from xinrong.credit.models import CreditProfile, WarningRuleSetting
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_visible

Finding = tuple[int, dict[str, Any]]
SEVERITIES = ("high", "medium", "low")


@dataclass
class Context:
    """What one evaluation looks at: a batch's new facts and the entities it touched."""

    batch_id: int | None
    entity_ids: list[int]

    def new_facts(self, category: str) -> QuerySet[Fact]:
        qs = fact_visible().filter(category=category, entity_id__in=self.entity_ids)
        if self.batch_id is not None:
            qs = qs.filter(batch_id=self.batch_id)
        return qs


@dataclass(frozen=True)
class Threshold:
    """The adjustable number of a rule: its meaning, allowed range and default."""

    label: str  # what the number counts, e.g. 欠费月数
    unit: str
    low: int
    high: int
    default: int
    setting: str = ""  # a Django setting that overrides the default for a deployment

    def initial(self) -> int:
        """Return the default, or the deployment's setting when there is one."""
        return int(getattr(settings, self.setting, self.default)) if self.setting else self.default


Check = Callable[["Context", "int | None"], Iterable[Finding]]


@dataclass(frozen=True)
class WarningRule:
    """One early-warning rule: its default severity and, if it has one, its threshold.

    The operator may switch a rule off, change its severity or its threshold
    (``WarningRuleSetting``); ``rules_effective`` applies those settings.
    """

    id: str
    description: str
    severity: str  # "high" | "medium" | "low"
    check: Check
    threshold: Threshold | None = None


@dataclass(frozen=True)
class EffectiveRule:
    """A rule as it runs now: the operator's setting applied to the rule's defaults."""

    rule: WarningRule
    enabled: bool
    severity: str
    threshold: int | None
    changed_by: str = ""
    changed_at: Any = None

    def severity_label(self) -> str:
        """The severity in words (高/中/低)."""
        return str(SEVERITY_LABELS.get(self.severity, self.severity))

    def label(self) -> str:
        """The rule's name with its threshold, e.g. 水电气欠费（欠费月数 ≥ 3 个月）."""
        name = _(self.rule.description)
        spec = self.rule.threshold
        if spec is None or self.threshold is None:
            return str(name)
        return str(
            _("%(name)s（%(label)s ≥ %(n)d %(unit)s）")
            % {"name": name, "label": _(spec.label), "n": self.threshold, "unit": _(spec.unit)}
        )


def _facts(category: str, keys: tuple[str, ...], **filters: Any) -> Check:
    def check(ctx: Context, _threshold: int | None) -> Iterable[Finding]:
        for fact in ctx.new_facts(category).filter(**filters).order_by("id"):
            values = fact.values()
            yield fact.entity_id, {"fact": fact.pk, **{k: values.get(k, "") for k in keys}}

    return check


def _falls_into(
    category: str,
    keys: tuple[str, ...],
    field: str,
    bad: Callable[[Any, int | None], bool],
    filters: Callable[[int | None], dict[str, Any]],
    *,
    series: str = "",
) -> Check:
    """Alert on a new fact that is bad (``filters`` in SQL, ``bad`` on ``field``, both given the
    rule's threshold) when the entity's previous fact of the same series was not: a tax grade
    that *falls* to D, arrears that *reach* three months. A grade that stays D month after month
    alerts once, not monthly.

    The previous fact is the latest visible one of an earlier period with the field filled in
    (per ``series`` column, e.g. water/electricity/gas), found with one correlated subquery on
    the entity's index. An old period delivered after a later one is known raises nothing: it
    is not the entity's current state.
    """

    present = {f"{field}__gt": ""} if field == "grade" else {f"{field}__isnull": False}

    def check(ctx: Context, threshold: int | None) -> Iterable[Finding]:
        same = fact_visible().filter(category=category, entity_id=OuterRef("entity_id"), **present)
        if series:
            same = same.filter(**{series: OuterRef(series)})
        # the previous period that says something (a month with the field left blank neither
        # ends nor starts the state)
        earlier = same.filter(period__lt=OuterRef("period"))
        previous = Subquery(earlier.order_by("-period", "-id").values(field)[:1])
        new = ctx.new_facts(category).filter(**filters(threshold)).annotate(previous=previous)
        if ctx.batch_id is not None:
            # a late delivery of an old period is no news when a later period is already known
            later = same.filter(period__gt=OuterRef("period")).exclude(batch_id=ctx.batch_id)
            new = new.exclude(Exists(later))
        for fact in new.order_by("id"):
            if fact.previous is not None and bad(fact.previous, threshold):
                continue  # already bad before this fact: alerted when it became so
            values = fact.values()
            yield fact.entity_id, {"fact": fact.pk, **{k: values.get(k, "") for k in keys}}

    return check


def _score_drop(ctx: Context, threshold: int | None) -> Iterable[Finding]:
    points = SCORE_DROP.initial() if threshold is None else threshold
    latest = {
        p.entity_id: p
        for p in CreditProfile.objects.filter(entity_id__in=ctx.entity_ids, is_latest=True)
    }
    previous: dict[int, CreditProfile] = {}
    for p in CreditProfile.objects.filter(entity_id__in=list(latest), is_latest=False).order_by(
        "entity_id", "-computed_at", "-id"
    ):
        # only a drop under the same model version is news about the enterprise; a new
        # version's different scale is not
        if p.model_id == latest[p.entity_id].model_id:
            previous.setdefault(p.entity_id, p)
    for eid, now in latest.items():
        before = previous.get(eid)
        if before is not None and before.score - now.score >= points:
            yield (
                eid,
                {
                    "profile": now.pk,
                    "from": before.score,
                    "to": now.score,
                    "grade_from": before.grade,
                    "grade_to": now.grade,
                },
            )


def _circle_member_default(ctx: Context, _threshold: int | None) -> Iterable[Finding]:
    """Members of a guarantee circle in which another member newly defaulted.

    A default is a platform loan declared in default (the marketplace records it as a
    ``loan`` fact), or a new enforcement case or 失信 listing of the member, which shows a
    default on debts outside the platform: its guarantors inside the circle now carry them.
    """
    defaulted = set(
        ctx.new_facts("judicial")
        .filter(Q(status="executed") | Q(flag=True))
        .values_list("entity_id", flat=True)
    ) | set(ctx.new_facts("loan").filter(status="defaulted").values_list("entity_id", flat=True))
    if not defaulted:
        return
    for circle in guarantee_circles(defaulted):
        for member in circle:
            for debtor in sorted(defaulted & set(circle)):
                if member != debtor:
                    yield member, {"defaulted": debtor, "circle": circle}


UTILITY_ARREARS = Threshold(N_("欠费月数"), N_("个月"), 1, 24, 3)  # 水电气欠费达到 3 个月
SCORE_DROP = Threshold(N_("下降分数"), N_("分"), 5, 300, 30, setting="XINRONG_SCORE_DROP_ALERT")

RULES: tuple[WarningRule, ...] = (
    WarningRule(
        "new_enforcement",
        N_("新增被执行案件"),
        "high",
        _facts("judicial", ("case_no", "filed_on", "amount"), status="executed"),
    ),
    WarningRule(
        "dishonest_listing",
        N_("被列为失信被执行人"),
        "high",
        _facts("judicial", ("case_no", "filed_on"), flag=True),
    ),
    WarningRule(
        "tax_grade_d",
        N_("纳税信用等级降为D级"),
        "high",
        _falls_into(
            "tax",
            ("period", "credit_grade"),
            "grade",
            lambda grade, _t: grade == "D",
            lambda _t: {"grade": "D"},
        ),
    ),
    WarningRule(
        "utility_arrears",
        N_("水电气欠费"),
        "medium",
        _falls_into(
            "utility",
            ("utility", "period", "months_in_arrears"),
            "arrears",
            lambda months, t: months >= (t or UTILITY_ARREARS.default),
            lambda t: {"arrears__gte": t or UTILITY_ARREARS.default},
            series="status",
        ),
        UTILITY_ARREARS,
    ),
    WarningRule(
        "social_security_arrears",
        N_("社会保险欠费"),
        "medium",
        _falls_into(
            "social_security",
            ("period", "arrears"),
            "arrears",
            lambda arrears, _t: arrears > 0,
            lambda _t: {"arrears__gt": 0},
        ),
    ),
    WarningRule(
        "abnormal_listing",
        N_("被列入经营异常名录"),
        "medium",
        _facts("abnormal_operation", ("listed_on", "reason"), behaviour_end__isnull=True),
    ),
    WarningRule("score_drop", N_("信用分大幅下降"), "medium", _score_drop, SCORE_DROP),
    WarningRule(
        "guarantee_circle_default",
        N_("担保圈内其他成员出现违约（贷款违约、被执行或失信）"),
        "high",
        _circle_member_default,
    ),
)
RULES_BY_ID = {r.id: r for r in RULES}
SEVERITY_LABELS = {"high": _("高"), "medium": _("中"), "low": _("低")}


def fingerprint(detail: dict[str, Any]) -> str:
    """Identify a finding, so that the same event never raises two alerts."""
    return hashlib.sha256(
        json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    ).hexdigest()


def rules_effective() -> list[EffectiveRule]:
    """Return every rule with the operator's setting applied (the defaults where none)."""
    saved = {
        r.rule: r for r in WarningRuleSetting.objects.select_related("updated_by").order_by("rule")
    }
    out = []
    for rule in RULES:
        row = saved.get(rule.id)
        default = rule.threshold.initial() if rule.threshold is not None else None
        if row is None:
            out.append(EffectiveRule(rule, True, rule.severity, default))
            continue
        out.append(
            EffectiveRule(
                rule,
                row.enabled,
                row.severity,
                row.threshold if row.threshold is not None else default,
                str(row.updated_by) if row.updated_by else "",
                row.updated_at,
            )
        )
    return out


def setting_text(values: dict[str, Any]) -> str:
    """A recorded setting in words, e.g. 启用：是；严重程度：中；阈值：3."""
    parts = []
    if "enabled" in values:
        parts.append(_("启用：%(v)s") % {"v": _("是") if values["enabled"] else _("否")})
    if "severity" in values:
        label = SEVERITY_LABELS.get(values["severity"], values["severity"])
        parts.append(_("严重程度：%(v)s") % {"v": label})
    if values.get("threshold") is not None:
        parts.append(_("阈值：%(v)s") % {"v": values["threshold"]})
    return "；".join(str(p) for p in parts)
