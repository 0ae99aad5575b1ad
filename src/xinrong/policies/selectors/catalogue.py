"""Reads of the policy catalogue: public list, a department's workspace, versions and changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgKind
from xinrong.common.errors import NotFoundError, PermissionDeniedError
from xinrong.common.templatetags.money import amount_text
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

TERM_LABELS: dict[str, str] = {
    "title": "措施名称",
    "kind": "措施类型",
    "delivery": "兑现方式",
    "description": "措施内容",
    "amount": "定额金额",
    "ratio": "比例",
    "cap": "单户上限",
    "cap_per_loan": "单笔贷款上限",
    "budget": "预算总额",
    "window_start": "申报开始日期",
    "window_end": "申报截止日期",
    "materials": "申报材料",
    "contact": "联系方式",
    "tags": "标签",
    "conditions": "申报条件",
    "process_key": "审批流程",
}


def tag_names() -> dict[str, str]:
    """Return entity tag code → name (for condition sentences)."""
    return dict(Tag.objects.values_list("code", "name"))


def conditions_sentence(
    conditions: list[dict[str, Any]], names: dict[str, str] | None = None
) -> str:
    """Return a condition list as a Chinese sentence (bad stored data reads as a notice)."""
    if cond.validate(conditions):
        return _("申报条件有误，请联系发布部门。")
    return cond.sentence(conditions, names if names is not None else tag_names())


# ---------------------------------------------------------------- public


@dataclass(frozen=True)
class PolicyFilters:
    """The public list's filters (all optional)."""

    q: str = ""
    level: str = ""
    kind: str = ""
    department: int | None = None
    tag: str = ""


def filters_parse(params: Any) -> PolicyFilters:
    """Return filters from query parameters, dropping values that are not choices."""
    level = params.get("level", "")
    kind = params.get("kind", "")
    dep = params.get("department", "")
    return PolicyFilters(
        q=str(params.get("q", "")).strip()[:100],
        level=level if level in PolicyLevel.values else "",
        kind=kind if kind in MeasureKind.values else "",
        department=int(dep) if str(dep).isdigit() and len(str(dep)) < 10 else None,
        tag=str(params.get("tag", "")).strip()[:40],
    )


def published_measures() -> QuerySet[Measure]:
    """Published measures of published documents."""
    return Measure.objects.filter(
        status=MeasureStatus.PUBLISHED, document__status=DocumentStatus.PUBLISHED
    ).select_related("document", "document__department")


def public_documents(*, filters: PolicyFilters) -> QuerySet[PolicyDocument]:
    """Published documents matching the filters, each with its published measures counted."""
    live = Q(measures__status=MeasureStatus.PUBLISHED)
    qs = PolicyDocument.objects.filter(status=DocumentStatus.PUBLISHED).select_related("department")
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    measure_q = Q()
    if filters.kind:
        measure_q &= Q(measures__kind=filters.kind)
    if filters.tag:
        measure_q &= Q(measures__tags__icontains=f'"{filters.tag}"')
    if measure_q:
        qs = qs.filter(live & measure_q)
    if filters.q:
        qs = qs.filter(
            Q(title__icontains=filters.q)
            | Q(doc_number__icontains=filters.q)
            | Q(summary__icontains=filters.q)
            | Q(measures__title__icontains=filters.q, measures__status=MeasureStatus.PUBLISHED)
        )
    return (
        qs.annotate(live_measures=Count("measures", filter=live, distinct=True))
        .order_by("-issued_on", "-id")
        .distinct()
    )


def public_departments() -> list[tuple[int, str]]:
    """Departments with published documents (for the filter)."""
    return list(
        PolicyDocument.objects.filter(status=DocumentStatus.PUBLISHED)
        .values_list("department_id", "department__name")
        .distinct()
        .order_by("department__name")
    )


def public_tags() -> list[str]:
    """The tags of published measures, most used first."""
    counts: dict[str, int] = {}
    for tags in published_measures().values_list("tags", flat=True):
        for t in tags or []:
            counts[t] = counts.get(t, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))[:30]


def document_public_get(*, pk: int) -> PolicyDocument:
    """A published document, or 404."""
    doc = (
        PolicyDocument.objects.filter(pk=pk, status=DocumentStatus.PUBLISHED)
        .select_related("department")
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.filter(status=MeasureStatus.PUBLISHED),
                to_attr="live",
            )
        )
        .first()
    )
    if doc is None:
        raise NotFoundError("not_found", _("没有这份已发布的政策文件"))
    return doc


def measure_public_get(*, code: str) -> Measure:
    """A published measure of a published document, or 404."""
    m = published_measures().filter(code=code[:40]).first()
    if m is None:
        raise NotFoundError("not_found", _("没有这项已发布的支持措施"))
    return m


# ---------------------------------------------------------------- presentation


def _money(v: Any) -> str:
    if v in (None, ""):
        return ""
    return str(amount_text(Decimal(str(v))))


def amount_phrase(m: Any) -> str:
    """Return how much a measure gives, in words ("定额20万元" / "按50%，单户最高10万元")."""
    parts = []
    if m.amount is not None:
        parts.append(_("定额%(a)s") % {"a": _money(m.amount)})
    if m.ratio is not None:
        pct = (Decimal(str(m.ratio)) * 100).normalize()
        parts.append(_("按%(p)s%%") % {"p": f"{pct:f}"})
    if m.cap is not None:
        parts.append(_("单户最高%(a)s") % {"a": _money(m.cap)})
    if m.cap_per_loan is not None:
        parts.append(_("单笔贷款最高%(a)s") % {"a": _money(m.cap_per_loan)})
    return "，".join(parts) or _("不涉及资金")


def window_phrase(m: Any) -> str:
    """Return the application window in words."""
    if m.delivery == Delivery.AUTOMATIC:
        return _("免申即享，无需申报")
    if m.window_start and m.window_end:
        return _("%(a)s 至 %(b)s") % {"a": m.window_start, "b": m.window_end}
    if m.window_start:
        return _("%(a)s 起") % {"a": m.window_start}
    if m.window_end:
        return _("截至 %(b)s") % {"b": m.window_end}
    return _("常年受理")


def _term_text(field: str, value: Any, names: dict[str, str]) -> str:
    if value in (None, "", []):
        return "—"
    if field == "kind":
        return str(MeasureKind(value).label) if value in MeasureKind.values else str(value)
    if field == "delivery":
        return str(Delivery(value).label) if value in Delivery.values else str(value)
    if field in ("amount", "cap", "cap_per_loan", "budget"):
        return _money(value)
    if field == "ratio":
        return f"{(Decimal(str(value)) * 100).normalize():f}%"
    if field in ("materials", "tags"):
        return "、".join(map(str, value))
    if field == "conditions":
        return conditions_sentence(value, names)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class VersionView:
    """One version of a measure with what changed from the one before."""

    version: MeasureVersion
    changes: list[tuple[str, str, str]]  # (label, before, after)


def measure_versions(*, measure: Measure) -> list[VersionView]:
    """Return a measure's versions, newest first, each with its changes from the previous."""
    versions = list(MeasureVersion.objects.filter(measure=measure).order_by("version"))
    names = tag_names()
    out: list[VersionView] = []
    previous: dict[str, Any] | None = None
    for v in versions:
        changes = []
        if previous is not None:
            for f, label in TERM_LABELS.items():
                if previous.get(f) != v.terms.get(f):
                    changes.append(
                        (
                            _(label),
                            _term_text(f, previous.get(f), names),
                            _term_text(f, v.terms.get(f), names),
                        )
                    )
        out.append(VersionView(v, changes))
        previous = v.terms
    return list(reversed(out))


def measure_terms_table(m: Measure) -> list[tuple[str, str]]:
    """Return the measure's terms as (label, text) rows for a detail page."""
    names = tag_names()
    return [
        (_("措施类型"), m.get_kind_display()),
        (_("兑现方式"), m.get_delivery_display()),
        (_("支持标准"), amount_phrase(m)),
        (_("预算总额"), _money(m.budget) or "—"),
        (_("申报时间"), window_phrase(m)),
        (_("申报条件"), conditions_sentence(m.conditions, names)),
        (_("申报材料"), "、".join(m.materials) or "—"),
        (_("联系方式"), m.contact or "—"),
        (_("标签"), "、".join(m.tags) or "—"),
        (_("现行版本"), _("第%(n)d版") % {"n": m.version}),
    ]


# ---------------------------------------------------------------- workspace


def workspace_documents(*, user: Any, status: str = "") -> QuerySet[PolicyDocument]:
    """Documents of the user's department (all departments for the operator's staff)."""
    permissions.require(user, "policies.catalogue_workspace")
    qs = PolicyDocument.objects.select_related("department").annotate(
        n_measures=Count("measures"),
        n_live=Count("measures", filter=Q(measures__status=MeasureStatus.PUBLISHED)),
    )
    org = user.organisation
    if org is not None and org.kind == OrgKind.GOVERNMENT:
        qs = qs.filter(department=org)
    else:
        # the operator's staff: every department; a sub-station the departments of its region
        qs = qs.filter(permissions.region_q(user, "department__region_code"))
    if status in DocumentStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-updated_at", "-id")


def document_manage_get(*, user: Any, pk: int) -> PolicyDocument:
    """A document the user may see in the workspace (404 for another department's)."""
    doc = workspace_documents(user=user).filter(pk=pk).first()
    if doc is None:
        raise NotFoundError("not_found", _("没有这份政策文件，或它不属于您的部门"))
    return doc


def measure_manage_get(*, user: Any, pk: int) -> Measure:
    """A measure the user may see in the workspace (404 for another department's)."""
    docs = workspace_documents(user=user).values("pk")
    m = (
        Measure.objects.select_related("document", "document__department")
        .filter(pk=pk, document__in=docs)
        .first()
    )
    if m is None:
        raise NotFoundError("not_found", _("没有这项支持措施，或它不属于您的部门"))
    return m


def managing(user: Any, obj: Any) -> bool:
    """True if the user may change the document or measure (its department's publisher)."""
    return permissions.can(user, "policies.catalogue_manage", obj)


def require_manage(user: Any, obj: Any) -> None:
    """Raise 403 unless the user may change the document or measure."""
    if not managing(user, obj):
        raise PermissionDeniedError("forbidden", _("只有本部门的政策发布员可以修改"))


def measure_reach(*, measure: Measure) -> dict[str, Any]:
    """How far a measure reached at the last matching pass: eligible, pushed, near misses."""
    from django.db.models import Count, Max, Q

    from xinrong.policies.models import PolicyMatch

    row = PolicyMatch.objects.filter(measure=measure).aggregate(
        n_eligible=Count("id", filter=Q(eligible=True)),
        n_pushed=Count("id", filter=Q(pushed_at__isnull=False)),
        n_near=Count("id", filter=Q(eligible=False)),
        at=Max("matched_at"),
    )
    return {
        "eligible": row["n_eligible"],
        "pushed": row["n_pushed"],
        "near": row["n_near"],
        "at": row["at"],
    }
