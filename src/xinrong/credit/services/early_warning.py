"""Writes of early warning: raising alerts, rule settings, handling alerts, loan watches."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import Organisation, User
from xinrong.audit.services import audit_record
from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.credit import early_warning, recipients
from xinrong.credit.choices import AlertStatus
from xinrong.credit.early_warning import WarningRule
from xinrong.credit.models import (
    Alert,
    Authorisation,
    LoanWatch,
    WarningRuleChange,
    WarningRuleSetting,
)
from xinrong.credit.services.common import text_clean
from xinrong.credit.services.scoring import SCORE_PART
from xinrong.enterprises.models import MarketEntity
from xinrong.notifications.services import notify_on_commit


def loan_watch_start(*, entity: MarketEntity, institution: Organisation, reference: str) -> None:
    """Let the lender of an outstanding loan receive the borrower's early warnings."""
    LoanWatch.objects.update_or_create(
        institution=institution, reference=reference, defaults={"entity": entity, "ended_at": None}
    )


def loan_watches_start(*, watches: list[tuple[int, int, str]]) -> None:
    """Start the watches of many outstanding loans at once: (entity id, institution id, reference).

    For a lender's loan book imported in bulk; a reference already watched is left as it is."""
    LoanWatch.objects.bulk_create(
        [LoanWatch(entity_id=e, institution_id=i, reference=r) for e, i, r in watches],
        batch_size=1000,
        ignore_conflicts=True,
    )


def loan_watch_end(*, institution: Organisation, reference: str) -> None:
    """Stop the early warnings of a loan that is settled (idempotent)."""
    LoanWatch.objects.filter(
        institution=institution, reference=reference, ended_at__isnull=True
    ).update(ended_at=timezone.now(), updated_at=timezone.now())


# ---------------------------------------------------------------- early warning


def alerts_raise(
    *, entity_ids: list[int], batch_id: int | None = None, only: Collection[str] | None = None
) -> int:
    """Run every warning rule and alert the institutions holding a live authorisation or an
    outstanding loan (a live ``LoanWatch``) for the enterprise.

    ``only`` limits the run to some rule ids (e.g. the score drop after a rescoring that no
    delivery caused). Returns the number of new alerts (repeats of one already raised are
    skipped).
    """
    if not entity_ids:
        return 0
    if len(entity_ids) > SCORE_PART:  # bounded IN lists: evaluate in parts
        wanted = sorted(set(entity_ids))
        return sum(
            alerts_raise(
                entity_ids=wanted[start : start + SCORE_PART], batch_id=batch_id, only=only
            )
            for start in range(0, len(wanted), SCORE_PART)
        )
    ctx = early_warning.Context(batch_id=batch_id, entity_ids=entity_ids)
    findings = [
        (rule, eid, detail)
        for rule in early_warning.rules_effective()
        if rule.enabled and (only is None or rule.rule.id in only)
        for eid, detail in rule.rule.check(ctx, rule.threshold)
    ]
    if not findings:
        return 0
    watchers: dict[int, set[int]] = {}
    found = {eid for _r, eid, _d in findings}
    consents = Authorisation.objects.filter(
        entity_id__in=found, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).values_list("entity_id", "institution_id")
    lenders = LoanWatch.objects.filter(entity_id__in=found, ended_at__isnull=True).values_list(
        "entity_id", "institution_id"
    )
    for eid, org in (*consents, *lenders):
        watchers.setdefault(eid, set()).add(org)
    alerts = [
        Alert(
            entity_id=eid,
            institution_id=org,
            rule=rule.rule.id,
            severity=rule.severity,
            detail=detail,
            fingerprint=early_warning.fingerprint(detail),
        )
        for rule, eid, detail in findings
        for org in sorted(watchers.get(eid, ()))
    ]
    seen = set(
        Alert.objects.filter(entity_id__in={a.entity_id for a in alerts}).values_list(
            "institution_id", "entity_id", "rule", "fingerprint"
        )
    )
    new = [a for a in alerts if (a.institution_id, a.entity_id, a.rule, a.fingerprint) not in seen]
    Alert.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    _alerts_notify(new)
    return len(new)


def _alerts_notify(alerts: list[Alert]) -> None:
    """Tell each institution, once per run and after the commit, of the alerts it received."""
    if not alerts:
        return
    names = dict(
        MarketEntity.objects.filter(pk__in={a.entity_id for a in alerts}).values_list("pk", "name")
    )
    by_org: dict[int, list[Alert]] = {}
    for a in alerts:
        by_org.setdefault(a.institution_id, []).append(a)
    link = reverse("credit:alerts")
    for org_id, items in sorted(by_org.items()):
        notify_on_commit(
            recipients=recipients.organisation_users(organisation_id=org_id),
            kind="credit.alert",
            title=_("%(n)d 条新的风险预警") % {"n": len(items)},
            body="\n".join(
                _("%(e)s · %(r)s（%(s)s）")
                % {
                    "e": names.get(a.entity_id, a.entity_id),
                    "r": _(early_warning.RULES_BY_ID[a.rule].description),
                    "s": early_warning.SEVERITY_LABELS.get(a.severity, a.severity),
                }
                for a in items[:20]
            ),
            link=link,
            organisation_id=org_id,
        )


@transaction.atomic
def warning_rule_update(
    *,
    rule_id: str,
    actor: User,
    enabled: bool,
    severity: str,
    threshold: int | str | None = None,
    note: str = "",
) -> WarningRuleSetting:
    """Switch an early-warning rule on or off, set its severity and threshold (operator admin).

    The change applies from the next evaluation (after the next ingestion batch) and is
    recorded with the values before and after.
    """
    permissions.require(
        actor, "credit.warning_rules_change", message=_("只有平台运营管理员可以修改预警规则")
    )
    rule = early_warning.RULES_BY_ID.get(rule_id)
    if rule is None:
        raise NotFoundError("not_found", _("没有这条预警规则"), {"field": "rule"})
    if severity not in early_warning.SEVERITIES:
        raise ApplicationError(
            "invalid_severity", _("严重程度只能是：高、中、低"), {"field": "severity"}, status=422
        )
    value = _warning_threshold(rule, threshold)
    note = text_clean(note, field="note", label=_("修改说明"), required=False)
    setting, created = WarningRuleSetting.objects.select_for_update().get_or_create(
        rule=rule_id, defaults={"severity": rule.severity}
    )
    default = rule.threshold.initial() if rule.threshold is not None else None
    current = setting.threshold if setting.threshold is not None else default
    before: dict[str, Any] = {"enabled": setting.enabled, "severity": setting.severity}
    after: dict[str, Any] = {"enabled": bool(enabled), "severity": severity}
    if rule.threshold is not None:
        before["threshold"] = current
        after["threshold"] = value
    if before == after:
        if created:  # nothing to change: leave no setting row behind either
            setting.delete()
        return setting
    setting.enabled = bool(enabled)
    setting.severity = severity
    # a threshold left at the default keeps following the default (a deployment setting)
    setting.threshold = value if value != current or setting.threshold is not None else None
    setting.updated_by = actor
    setting.updated_at = timezone.now()
    setting.full_clean()
    setting.save()
    WarningRuleChange.objects.create(
        rule=rule_id, actor=actor, before=before, after=after, note=note
    )
    audit_record(
        category="config",
        action="credit.warning_rule_update",
        actor=actor,
        target_type="credit.warningrule",
        target_id=rule_id,
        details={"before": before, "after": after},
    )
    return setting


def _warning_threshold(rule: WarningRule, threshold: int | str | None) -> int | None:
    """Return the rule's threshold as an integer within its range, or None if it has none."""
    spec = rule.threshold
    text = "" if threshold is None else str(threshold).strip()
    if spec is None:
        if text:
            raise ApplicationError(
                "no_threshold", _("这条规则没有阈值"), {"field": "threshold"}, status=422
            )
        return None
    if not text.isascii() or not text.isdigit() or not spec.low <= int(text) <= spec.high:
        raise ApplicationError(
            "invalid_threshold",
            _("%(label)s须为 %(low)d–%(high)d 之间的整数（%(unit)s）")
            % {"label": _(spec.label), "low": spec.low, "high": spec.high, "unit": _(spec.unit)},
            {"field": "threshold"},
            status=422,
        )
    return int(text)


def _require_alert_owner(alert: Alert, actor: User) -> None:
    permissions.require(actor, "credit.alert_handle", alert, message=_("只能处理本机构收到的预警"))


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: User, note: str = "") -> Alert:
    """The institution has seen the alert and is looking into it."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _require_alert_owner(alert, actor)
    if alert.status != AlertStatus.OPEN:
        raise ApplicationError(
            "alert_not_open", _("只有待处理的预警可以确认"), {"field": "status"}, status=409
        )
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.handled_by, alert.handled_at, alert.note = actor, timezone.now(), note[:2000]
    alert.save(update_fields=["status", "handled_by", "handled_at", "note", "updated_at"])
    return alert


@transaction.atomic
def alert_close(*, alert: Alert, actor: User, note: str) -> Alert:
    """Close an alert with what was done about it."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _require_alert_owner(alert, actor)
    if alert.status == AlertStatus.CLOSED:
        raise ApplicationError("alert_closed", _("该预警已关闭"), {"field": "status"}, status=409)
    if not note.strip():
        raise ApplicationError(
            "note_required", _("关闭预警须填写处理说明"), {"field": "note"}, status=422
        )
    alert.status = AlertStatus.CLOSED
    alert.handled_by, alert.handled_at, alert.note = actor, timezone.now(), note.strip()[:2000]
    alert.save(update_fields=["status", "handled_by", "handled_at", "note", "updated_at"])
    return alert
