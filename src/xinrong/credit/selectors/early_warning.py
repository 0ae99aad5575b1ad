"""Reads of early warning: alert inboxes and rule settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.models import User
from xinrong.common.errors import PermissionDeniedError
from xinrong.credit.choices import AlertStatus
from xinrong.credit.early_warning import EffectiveRule, rules_effective, setting_text
from xinrong.credit.models import Alert, WarningRuleChange


def alert_inbox(*, user: User, status: str | None = None) -> QuerySet[Alert]:
    """Return the alerts sent to the user's institution (newest first)."""
    if user.group != OrgGroup.INSTITUTION or user.organisation_id is None:
        raise PermissionDeniedError("forbidden", _("风险预警只发送给金融机构"))
    qs = Alert.objects.filter(institution_id=user.organisation_id).select_related(
        "entity", "handled_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs


@dataclass
class WarningRules:
    """The early-warning rules as they run now, and the latest changes to them."""

    rules: list[EffectiveRule]
    changes: list[WarningRuleChange]
    can_change: bool


def warning_rules(*, user: User) -> WarningRules:
    """Return the rules with their settings, for the platform operator (admins may change)."""
    permissions.require(
        user, "credit.warning_rules_view", message=_("只有平台运营方可以查看预警规则设置")
    )
    changes = list(WarningRuleChange.objects.select_related("actor")[:50])
    for c in changes:  # the recorded values in words, for the page
        c.before_text = setting_text(c.before)  # type: ignore[attr-defined]
        c.after_text = setting_text(c.after)  # type: ignore[attr-defined]
    return WarningRules(
        rules=rules_effective(),
        changes=changes,
        can_change=permissions.can(user, "credit.warning_rules_change"),
    )


def warning_rules_enabled() -> list[EffectiveRule]:
    """Return the rules that run now (what every institution's inbox explains)."""
    return [r for r in rules_effective() if r.enabled]


def alert_open_count(*, user: User) -> int:
    """Open alerts of the user's institution (0 for others)."""
    if user.group != OrgGroup.INSTITUTION or user.organisation_id is None:
        return 0
    return Alert.objects.filter(
        institution_id=user.organisation_id, status=AlertStatus.OPEN
    ).count()
