"""The operator's early-warning rule settings: on/off, severity, threshold, audit, pages."""

from __future__ import annotations

import pytest

from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit.early_warning import RULES, rules_effective
from xinrong.credit.models import Alert, WarningRuleChange
from xinrong.credit.selectors import early_warning as early_warning_selectors
from xinrong.credit.services import early_warning as early_warning_services
from xinrong.credit.tests.test_warning_cultivation import _authorise, _deliver
from xinrong.datahub.services.sources import source_create

pytestmark = pytest.mark.django_db

UTILITY = "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数\n"


@pytest.fixture
def source(make_user):
    dept = make_user("government", ["data_provider"])
    return source_create(
        code="utility", name="供电公司", organisation=dept.organisation, categories=["utility"]
    )


def _rule(rule_id):
    return next(r for r in rules_effective() if r.rule.id == rule_id)


def test_without_settings_every_rule_runs_with_its_defaults():
    rules = rules_effective()
    assert [r.rule.id for r in rules] == [r.id for r in RULES]
    assert all(r.enabled for r in rules)
    assert _rule("utility_arrears").threshold == 3
    assert _rule("score_drop").threshold == 30
    assert _rule("tax_grade_d").threshold is None
    assert _rule("utility_arrears").label() == "水电气欠费（欠费月数 ≥ 3 个月）"


def test_the_score_drop_default_follows_the_deployment_setting(settings):
    settings.XINRONG_SCORE_DROP_ALERT = 50
    assert _rule("score_drop").threshold == 50


def test_a_lower_utility_threshold_alerts_earlier_and_the_change_is_recorded(
    entity, enterprise_user, bank_officer, operator, source, django_capture_on_commit_callbacks
):
    _authorise(enterprise_user, bank_officer.organisation)
    early_warning_services.warning_rule_update(
        rule_id="utility_arrears",
        actor=operator,
        enabled=True,
        severity="high",
        threshold="2",
        note="冬季供暖期从严",
    )
    _deliver(
        source,
        "utility",
        f"{UTILITY}{entity.uscc},gas,2026-10,500,1\n{entity.uscc},gas,2026-11,500,2\n",
        django_capture_on_commit_callbacks,
    )
    alert = Alert.objects.get()
    assert (alert.rule, alert.severity, alert.detail["period"]) == (
        "utility_arrears",
        "high",
        "2026-11",
    )
    change = WarningRuleChange.objects.get()
    assert (change.actor, change.note) == (operator, "冬季供暖期从严")
    assert change.before == {"enabled": True, "severity": "medium", "threshold": 3}
    assert change.after == {"enabled": True, "severity": "high", "threshold": 2}


def test_a_disabled_rule_raises_nothing(
    entity, enterprise_user, bank_officer, operator, source, django_capture_on_commit_callbacks
):
    _authorise(enterprise_user, bank_officer.organisation)
    early_warning_services.warning_rule_update(
        rule_id="utility_arrears", actor=operator, enabled=False, severity="medium", threshold=3
    )
    _deliver(
        source,
        "utility",
        f"{UTILITY}{entity.uscc},water,2026-10,80,5\n",
        django_capture_on_commit_callbacks,
    )
    assert not Alert.objects.exists()
    assert "utility_arrears" not in {
        r.rule.id for r in early_warning_selectors.warning_rules_enabled()
    }


@pytest.mark.parametrize(
    ("rule_id", "severity", "threshold", "error", "field"),
    [
        ("utility_arrears", "urgent", 3, ApplicationError, "severity"),
        ("utility_arrears", "high", "0", ApplicationError, "threshold"),
        ("utility_arrears", "high", "25", ApplicationError, "threshold"),
        ("utility_arrears", "high", "2.5", ApplicationError, "threshold"),
        ("utility_arrears", "high", "", ApplicationError, "threshold"),
        ("utility_arrears", "high", "３", ApplicationError, "threshold"),  # full-width digit
        ("score_drop", "medium", "4", ApplicationError, "threshold"),
        ("tax_grade_d", "high", "3", ApplicationError, "threshold"),  # has no threshold
        ("no_such_rule", "high", None, NotFoundError, "rule"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_and_change_nothing(
    operator, rule_id, severity, threshold, error, field
):
    with pytest.raises(error) as info:
        early_warning_services.warning_rule_update(
            rule_id=rule_id, actor=operator, enabled=True, severity=severity, threshold=threshold
        )
    assert info.value.extra["field"] == field
    assert not WarningRuleChange.objects.exists()
    assert all(r.changed_at is None for r in rules_effective())


def test_only_operator_admins_change_rules(make_user, bank_officer, substation_operator):
    auditor = make_user("operator", ["auditor"])
    # a sub-station's admin runs a region; the rules apply to the whole province
    assert early_warning_selectors.warning_rules(user=substation_operator).can_change is False
    for user in (auditor, bank_officer, substation_operator):
        with pytest.raises(PermissionDeniedError):
            early_warning_services.warning_rule_update(
                rule_id="score_drop", actor=user, enabled=False, severity="low", threshold=30
            )
    assert (
        early_warning_selectors.warning_rules(user=auditor).can_change is False
    )  # operators may look
    with pytest.raises(PermissionDeniedError):
        early_warning_selectors.warning_rules(user=bank_officer)


def test_saving_the_same_values_writes_no_change_record(operator):
    for _ in range(2):
        early_warning_services.warning_rule_update(
            rule_id="score_drop", actor=operator, enabled=True, severity="medium", threshold=40
        )
    assert WarningRuleChange.objects.count() == 1


def test_rules_page_shows_settings_saves_and_shows_errors_in_chinese(client, operator):
    client.force_login(operator)
    page = client.get("/credit/alerts/rules/").content.decode()
    assert "水电气欠费（欠费月数 ≥ 3 个月）" in page and 'name="threshold"' in page
    response = client.post(
        "/credit/alerts/rules/",
        {"rule": "score_drop", "enabled": "on", "severity": "high", "threshold": "40"},
    )
    assert response.status_code == 302
    page = client.get("/credit/alerts/rules/").content.decode()
    assert "信用分大幅下降（下降分数 ≥ 40 分）" in page
    assert "启用：是；严重程度：中；阈值：30" in page  # the change record, before
    assert "启用：是；严重程度：高；阈值：40" in page  # and after
    bad = client.post(
        "/credit/alerts/rules/",
        {"rule": "score_drop", "enabled": "on", "severity": "high", "threshold": "abc"},
    )
    assert bad.status_code == 422
    assert "下降分数须为 5–300 之间的整数（分）" in bad.content.decode()
    assert 'value="abc"' in bad.content.decode()  # the bad value is shown back to correct
    assert _rule("score_drop").threshold == 40  # unchanged by the refused post


def test_rules_page_is_refused_to_institutions(client, bank_officer):
    client.force_login(bank_officer)
    assert client.get("/credit/alerts/rules/").status_code == 403


def test_the_inbox_lists_the_rules_that_run(client, bank_officer, operator):
    early_warning_services.warning_rule_update(
        rule_id="social_security_arrears", actor=operator, enabled=False, severity="medium"
    )
    client.force_login(bank_officer)
    text = client.get("/credit/alerts/").content.decode()
    assert "水电气欠费（欠费月数 ≥ 3 个月）" in text and "社会保险欠费" not in text


def test_saving_only_the_severity_keeps_the_threshold_following_the_default(operator, settings):
    early_warning_services.warning_rule_update(
        rule_id="score_drop", actor=operator, enabled=True, severity="high", threshold="30"
    )
    settings.XINRONG_SCORE_DROP_ALERT = 45  # the deployment changes its default later
    assert (_rule("score_drop").severity, _rule("score_drop").threshold) == ("high", 45)
