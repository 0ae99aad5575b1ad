"""Related-party risk flags: registration status, negative facts, guarantee circles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.credit.choices import RiskFlag
from xinrong.credit.features import exclude_repaired
from xinrong.credit.graph.base import DISHONEST_CATEGORY, FLAGGED_STATUSES, Flag
from xinrong.credit.graph.circles import chunks
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.selectors import fact_visible

# --- related-party risk flags ----------------------------------------------------------------


def risk_flags(
    entities: dict[int, str],
    *,
    categories: Collection[str],
    in_circle: Collection[int] = (),
    published_dishonest: bool = False,
) -> dict[int, list[Flag]]:
    """Return the risk flags of entities given as {pk: registration status}, in one fact query.

    Negative facts count only in ``categories`` (what the reader may see), only until their
    retention date (征信业管理条例 第十六条) and not once a credit repair was approved, as in
    the credit archive an institution reads.
    With ``published_dishonest`` the 失信被执行人 listing counts even outside ``categories``:
    courts publish it, so it is no one's non-public data.
    """
    flags: dict[int, list[Flag]] = defaultdict(list)
    ids = sorted(entities)
    negative: dict[int, list[tuple[str, int]]] = defaultdict(list)
    dishonest: dict[int, int] = defaultdict(int)
    readable = sorted(c for c in categories if c in CATEGORIES)
    wanted = Q(category__in=readable)
    if published_dishonest:
        wanted |= Q(category=DISHONEST_CATEGORY, flag=True)
    if ids and (readable or published_dishonest):
        today = timezone.localdate()
        for chunk in chunks(ids):
            rows = (
                exclude_repaired(fact_visible())
                .filter(wanted, entity_id__in=chunk, negative=True)
                .exclude(retention_until__lt=today)
                .values_list("entity_id", "category")
                .annotate(
                    n=Count("id"),
                    dishonest=Count("id", filter=Q(category=DISHONEST_CATEGORY, flag=True)),
                )
                .order_by()
            )
            for entity_id, category, n, n_dishonest in rows:
                if category in readable:
                    negative[entity_id].append((category, n))
                dishonest[entity_id] += n_dishonest
    circle_members = set(in_circle)
    for pk in ids:
        if dishonest.get(pk):
            flags[pk].append(
                Flag(
                    RiskFlag.DISHONEST,
                    str(RiskFlag.DISHONEST.label),
                    _("失信被执行人记录 %(n)d 条") % {"n": dishonest[pk]},
                )
            )
        if negative.get(pk):
            parts = [
                _("%(category)s %(n)d 条") % {"category": _(CATEGORIES[c].name), "n": n}
                for c, n in sorted(negative[pk])
            ]
            flags[pk].append(
                Flag(RiskFlag.NEGATIVE_INFO, str(RiskFlag.NEGATIVE_INFO.label), "；".join(parts))
            )
        status_flag = FLAGGED_STATUSES.get(entities[pk])
        if status_flag is not None:
            flags[pk].append(Flag(status_flag, str(status_flag.label)))
        if pk in circle_members:
            flags[pk].append(
                Flag(
                    RiskFlag.GUARANTEE_CIRCLE,
                    str(RiskFlag.GUARANTEE_CIRCLE.label),
                    _("与其他企业互保或循环担保"),
                )
            )
    return dict(flags)
