"""Background work of the policy module (run by `xinrong db_worker`).

Tasks import services inside their bodies so that services may enqueue tasks without a circle.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def policy_match_run() -> dict[str, Any]:
    """Judge every measure in force over every entity, store the matches and push new ones."""
    from xinrong.policies.services.matching import match_all

    return match_all().as_dict()


@task()
def policy_match_sweep() -> dict[str, Any]:
    """The periodic job: run the matching pass when measures or facts changed since the last
    pass (or it is a day old, as measures enter and leave their validity); else do nothing."""
    from xinrong.policies.services.matching import match_all, match_needed

    if not match_needed():
        return {"skipped": True}
    return match_all().as_dict()


@task()
def policy_measure_rematch(measure_id: int) -> dict[str, Any]:
    """Re-judge one measure over every entity after it was published, edited or withdrawn."""
    from xinrong.policies.models import Measure
    from xinrong.policies.services.matching import measure_rematch

    measure = Measure.objects.filter(pk=measure_id).first()
    if measure is None:
        return {"missing": measure_id}
    return measure_rematch(measure=measure).as_dict()
