"""The demo data of the policy module: the Qinghai policy set (and, added by the lead, the
matches, applications, grants and 贴息 of the other parts)."""

from __future__ import annotations

from typing import Any


def seed_policies(seed_value: int, *, activity: bool = True) -> dict[str, Any]:
    """Seed the policy module's demo data; return what was created, by kind.

    ``seed_value`` is the demo's random seed (for the parts that draw random data);
    ``activity=False`` loads the policy set only (no matching, applications, lists, batches).
    """
    from xinrong.policies.demo.activity import seed_policy_activity
    from xinrong.policies.demo.catalogue import seed_policy_catalogue

    report: dict[str, Any] = {"seed": seed_value}
    report["measures"] = seed_policy_catalogue()
    if activity:
        report |= seed_policy_activity(seed_value)
    return report
