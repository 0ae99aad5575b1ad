"""Matching: all measures in force over all entities in one vectorised pass, stored and pushed.

``match_all`` builds the entity columns once (``evaluate.entity_columns``), judges every
measure in force over them (``evaluate.evaluate_matrix``), and stores one ``PolicyMatch`` row
per eligible pair and per near miss (at most ``NEAR_MISS`` unmet conditions) with the reasons,
in bulk upserts (no per-row queries). Pairs that no longer match are deleted, except pairs the
enterprise was already told about: those stay, marked not eligible, so a later match never
pushes the same measure twice. Measures not in force (withdrawn, expired) keep their rows as
history and are not re-judged.

After storing, every eligible pair not yet pushed is pushed once: one inbox notice per measure
to the users of all its newly matched enterprises (``notifications.notification_send``, which
hands the notices on to the SMS and e-mail channels configured), unless the enterprise muted
the measure's kind (``PushMute``); ``pushed_at`` is then set and never cleared.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError
from xinrong.policies.choices import DocumentStatus, MeasureKind, MeasureStatus
from xinrong.policies.conditions import FIELDS, TAGS
from xinrong.policies.evaluate import (
    RATIO_BASES,
    VETO_COLUMN,
    VETO_TEXT,
    entity_columns,
    estimate_amount,
    evaluate_matrix,
    missing_text,
    unmet_conditions,
)
from xinrong.policies.models import Measure, PolicyMatch, PushMute

NEAR_MISS = 1
BATCH = 5_000
PUSH_KIND = "policies.match"


@dataclass
class MatchStats:
    """What one matching pass did."""

    measures: int = 0
    entities: int = 0
    eligible: int = 0
    near: int = 0
    new_eligible: int = 0
    deleted: int = 0
    pushed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def measures_in_force(
    measures: Iterable[Measure] | None = None, *, today: dt.date | None = None
) -> list[Measure]:
    """Return the published measures of published documents in force today (window not past)."""
    day = today or timezone.localdate()
    qs = Measure.objects.filter(
        Q(document__effective_to__isnull=True) | Q(document__effective_to__gte=day),
        Q(window_end__isnull=True) | Q(window_end__gte=day),
        status=MeasureStatus.PUBLISHED,
        document__status=DocumentStatus.PUBLISHED,
        document__effective_from__lte=day,
    ).select_related("document")
    if measures is not None:
        qs = qs.filter(pk__in=[m.pk for m in measures])
    return list(qs.order_by("pk"))


def _tag_names() -> dict[str, str]:
    from xinrong.enterprises.models import Tag

    return dict(Tag.objects.values_list("code", "name"))


def _unknown(cols: pd.DataFrame, column: str) -> np.ndarray:
    values = cols[column]
    unknown: np.ndarray = values.isna().to_numpy(dtype=bool)
    if values.dtype == object:
        unknown = unknown | (values.astype(str) == "").to_numpy(dtype=bool)
    return unknown


def _amounts(measure: Measure, cols: pd.DataFrame, where: np.ndarray) -> list[Decimal | None]:
    """Estimated amounts of the entities at ``where`` (one figure when it depends on no row)."""
    if measure.amount is not None or measure.kind not in RATIO_BASES:
        figure = estimate_amount(measure, {})
        return [figure] * len(where)
    column = RATIO_BASES[measure.kind][0]
    base = cols[column].to_numpy(dtype=float)[where]
    return [estimate_amount(measure, {column: float(x)}) for x in base]


def _rows_of_measure(
    measure: Measure,
    cols: pd.DataFrame,
    ids: np.ndarray,
    eligible: np.ndarray,
    keep: np.ndarray,
    existing: dict[int, tuple[Any, Any]],
    now: dt.datetime,
    tag_names: dict[str, str],
) -> list[PolicyMatch]:
    """Build the rows to upsert of one measure (eligible pairs, near misses, pushed pairs)."""
    where = np.flatnonzero(keep)
    if not len(where):
        return []
    conds = list(measure.conditions or [])
    # unmet_conditions is computed on the kept rows only: its arrays are already row-aligned
    fails = unmet_conditions(conds, cols.iloc[where]) if conds else []
    # each failed condition has two texts: what is needed, and "no such information" when the
    # entity's value is unknown (tags are never unknown)
    texts = []
    for cond in conds:
        f = FIELDS[cond["field"]]
        need = missing_text(cond, {f.column: 0}, tag_names)
        unknown_text = missing_text(cond, {}, tag_names) if f.kind != TAGS else need
        unknown = _unknown(cols, f.column)[where] if f.kind != TAGS else np.zeros(len(where), bool)
        texts.append((str(cond["field"]), unknown_text, need, unknown))
    amounts = _amounts(measure, cols, where)
    vetoed = (
        np.nan_to_num(cols[VETO_COLUMN].to_numpy(dtype=float))[where] > 0
        if VETO_COLUMN in cols.columns
        else np.zeros(len(where), dtype=bool)
    )
    rows = []
    for k, j in enumerate(where.tolist()):
        entity_id = int(ids[j])
        missing = [
            {"field": field, "text": unknown_text if unknown[k] else need}
            for (field, unknown_text, need, unknown), failed in zip(texts, fails, strict=True)
            if failed[k]
        ]
        if vetoed[k]:  # the black list's one-vote veto, first
            missing.insert(0, {"field": VETO_COLUMN, "text": VETO_TEXT})
        ok = bool(eligible[j])
        first, _pushed = existing.get(entity_id, (None, None))
        rows.append(
            PolicyMatch(
                measure_id=measure.pk,
                entity_id=entity_id,
                measure_version=measure.version,
                eligible=ok,
                missing=missing,
                estimated_amount=amounts[k] if ok else None,
                first_matched_at=first or (now if ok else None),
                matched_at=now,
            )
        )
    return rows


def _store(
    measures: Sequence[Measure],
    cols: pd.DataFrame,
    eligible: np.ndarray,
    unmet: np.ndarray,
    now: dt.datetime,
    stats: MatchStats,
) -> None:
    ids = cols.index.to_numpy(dtype=np.int64)
    position = pd.Index(ids)
    tag_names = _tag_names()
    for i, measure in enumerate(measures):
        existing: dict[int, tuple[Any, Any]] = {
            e: (first, pushed)
            for e, first, pushed in PolicyMatch.objects.filter(measure=measure).values_list(
                "entity_id", "first_matched_at", "pushed_at"
            )
        }
        pushed_ids = np.fromiter((e for e, (_f, p) in existing.items() if p is not None), np.int64)
        pushed_mask = np.zeros(len(ids), bool)
        if len(pushed_ids):
            at = position.get_indexer(pushed_ids)
            pushed_mask[at[at >= 0]] = True
        keep = (unmet[i] <= NEAR_MISS) | pushed_mask
        rows = _rows_of_measure(measure, cols, ids, eligible[i], keep, existing, now, tag_names)
        stats.eligible += int(eligible[i].sum())
        stats.near += int(((unmet[i] > 0) & (unmet[i] <= NEAR_MISS)).sum())
        stats.new_eligible += sum(
            1 for r in rows if r.eligible and existing.get(r.entity_id, (None,))[0] is None
        )
        with transaction.atomic():
            for start in range(0, len(rows), BATCH):
                PolicyMatch.objects.bulk_create(
                    rows[start : start + BATCH],
                    update_conflicts=True,
                    unique_fields=["measure", "entity"],
                    update_fields=[
                        "measure_version",
                        "eligible",
                        "missing",
                        "estimated_amount",
                        "first_matched_at",
                        "matched_at",
                    ],
                )
            # pairs not touched by this pass no longer match (pushed pairs were kept above)
            deleted, _by = (
                PolicyMatch.objects.filter(measure=measure).exclude(matched_at=now).delete()
            )
            stats.deleted += deleted


def _users_by_organisation(org_ids: Iterable[int]) -> dict[int, list[int]]:
    from xinrong.accounts.models import User

    out: dict[int, list[int]] = defaultdict(list)
    rows = User.objects.filter(
        organisation_id__in=sorted(set(org_ids)), is_active=True, api_key__isnull=True
    ).values_list("organisation_id", "pk")
    for org_id, pk in rows:
        out[org_id].append(pk)
    return out


def push_pending(*, measures: Sequence[Measure] | None = None) -> int:
    """Push every eligible, never-pushed pair once (muted kinds excepted); return how many.

    One inbox notice per measure to the users of the enterprises it newly fits; the pairs are
    locked while pushed (skipped when another pass holds them), so a pair is pushed once.
    """
    from xinrong.notifications.services import notification_send

    muted = PushMute.objects.filter(entity_id=OuterRef("entity_id"), kind=OuterRef("measure__kind"))
    qs = PolicyMatch.objects.filter(
        eligible=True,
        pushed_at__isnull=True,
        entity__organisation__isnull=False,
        measure__status=MeasureStatus.PUBLISHED,
    ).exclude(Exists(muted))
    if measures is not None:
        qs = qs.filter(measure__in=[m.pk for m in measures])
    pushed = 0
    link = reverse("policies:mine")
    with transaction.atomic():
        pairs = list(
            qs.select_for_update(skip_locked=True, of=("self",))
            .order_by("measure_id", "entity_id")
            .values_list("pk", "measure_id", "entity__organisation_id")
        )
        if not pairs:
            return 0
        users = _users_by_organisation(org for _pk, _m, org in pairs)
        by_measure: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pk, measure_id, org in pairs:
            if users.get(org):
                by_measure[measure_id].append((pk, org))
        titles = dict(Measure.objects.filter(pk__in=list(by_measure)).values_list("pk", "title"))
        now = timezone.now()
        for measure_id, items in by_measure.items():
            recipients = [u for _pk, org in items for u in users[org]]
            notification_send(
                recipients=recipients,
                kind=PUSH_KIND,
                title=_("您符合政策措施“%(t)s”的条件") % {"t": titles[measure_id]},
                body=_(
                    "平台根据贵单位的信息，发现贵单位符合“%(t)s”的条件，可在“我的政策”查看可获金额和办理方式。"
                )
                % {"t": titles[measure_id]},
                link=link,
            )
            done = [pk for pk, _org in items]
            for start in range(0, len(done), BATCH):
                PolicyMatch.objects.filter(
                    pk__in=done[start : start + BATCH], pushed_at__isnull=True
                ).update(pushed_at=now)
            pushed += len(done)
    return pushed


def match_all(
    *, measures: Sequence[Measure] | None = None, push: bool = True, as_of: dt.date | None = None
) -> MatchStats:
    """Judge the measures in force (all, or those of ``measures``) over all entities, store the
    matches with their reasons, and push new matches once; return what was done."""
    started = time.perf_counter()
    live = measures_in_force(measures, today=as_of)
    stats = MatchStats(measures=len(live))
    if live:
        cols = entity_columns(as_of=as_of)
        stats.entities = len(cols)
        eligible, unmet = evaluate_matrix([list(m.conditions or []) for m in live], cols)
        _store(live, cols, eligible, unmet, timezone.now(), stats)
        if push:
            stats.pushed = push_pending(measures=live)
    stats.seconds = round(time.perf_counter() - started, 3)
    return stats


def measure_rematch(*, measure: Measure) -> MatchStats:
    """Re-judge one measure over all entities (after it was published or its terms changed).

    A measure not in force (a draft, withdrawn, expired) is not judged; its rows stay as history.
    """
    return match_all(measures=[measure])


def last_pass_at() -> dt.datetime | None:
    """Return when the last matching pass stored its matches (None before the first)."""
    return PolicyMatch.objects.aggregate(at=Max("matched_at"))["at"]  # type: ignore[no-any-return]


def match_needed(*, now: dt.datetime | None = None) -> bool:
    """Return True when facts or measures changed since the last pass, or it is a day old.

    Changes: a measure or document edited, a credit profile written (facts delivered are
    rescored), a registry row changed.
    """
    from xinrong.credit.models import BlacklistEntry, CreditProfile
    from xinrong.enterprises.models import MarketEntity
    from xinrong.policies.models import PolicyDocument

    last = last_pass_at()
    moment = now or timezone.now()
    if last is None or moment - last > dt.timedelta(days=1):
        return True
    changes = (
        Measure.objects.filter(updated_at__gt=last),
        PolicyDocument.objects.filter(updated_at__gt=last),
        CreditProfile.objects.filter(computed_at__gt=last),
        MarketEntity.objects.filter(updated_at__gt=last),
        BlacklistEntry.objects.filter(Q(listed_at__gt=last) | Q(cleared_at__gt=last)),
    )
    return any(qs.exists() for qs in changes)


def mute_set(*, entity: Any, kind: str, muted: bool, actor: Any = None) -> bool:
    """Mute (or unmute) pushes of one measure kind for an entity; return the new state."""
    if kind not in MeasureKind.values:
        raise ApplicationError(
            "invalid_kind",
            _("措施类型不存在：%(k)s") % {"k": kind},
            {"field": "kind"},
            status=422,
        )
    if muted:
        PushMute.objects.get_or_create(entity=entity, kind=kind)
    else:
        PushMute.objects.filter(entity=entity, kind=kind).delete()
    return muted


def muted_kinds(*, entity: Any) -> set[str]:
    """Return the measure kinds an entity muted."""
    return set(PushMute.objects.filter(entity=entity).values_list("kind", flat=True))
