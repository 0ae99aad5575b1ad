"""Rule versions: a new version from a date through the page, every error at once, changes in
words, who may see and set them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from xinrong.riskfund.models import InstitutionLimit, RuleSet
from xinrong.riskfund.services.rules import LimitIn, rule_set_create
from xinrong.riskfund.tests.factories import fund_world

pytestmark = pytest.mark.django_db


def form_data(**kw):
    data = {
        "effective_from": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        "loan_cap": "1000",
        "entity_types": ["enterprise", "individual_business"],
        "sizes": ["small", "micro"],
        "loan_kinds": ["credit", "first"],
        "gov_share": "0.400",
        "min_overdue_days": "90",
        "institution_year_cap": "",
        "breaker_threshold": "5",
        "note": "按省政府办公厅通知扩大覆盖范围",
    }
    data.update(kw)
    return data


def test_operator_sets_a_new_version_and_the_page_says_what_changed(client, make_user):
    w = fund_world(make_user)
    client.force_login(w.office)
    page = client.get(reverse("riskfund:rules_new", args=[w.fund.code]))
    assert page.status_code == 200
    assert page.context["form"]["loan_cap"].value() == Decimal("500")  # prefilled, in 万元
    response = client.post(
        reverse("riskfund:rules_new", args=[w.fund.code]),
        form_data(limit_inst_0=str(w.bank.pk), limit_cap_0="2000"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    v2 = RuleSet.objects.get(fund=w.fund, version=2)
    assert v2.loan_cap == Decimal("10000000.00")
    assert v2.entity_types == ["enterprise", "individual_business"]
    assert v2.gov_share == Decimal("0.400") and v2.breaker_threshold == Decimal("5")
    assert v2.created_by == w.office
    limit = InstitutionLimit.objects.get(rule_set=v2)
    assert limit.institution == w.bank and limit.year_cap == Decimal("20000000.00")
    text = client.get(reverse("riskfund:rules", args=[w.fund.code])).content.decode()
    assert "单笔贷款金额上限：500 万元 → 1000 万元" in text
    assert "覆盖的主体类型：企业 → 企业、个体工商户" in text
    assert "政府 : 机构分担：3:7 → 4:6" in text
    assert "熔断不良率：不设熔断 → 5%" in text
    assert f"新增机构限额：{w.bank.name} 每年 2000 万元" in text
    assert f"{w.bank.name}：每年 2000 万元" in text
    assert "待生效" in text and "现行" in text
    # versions are never edited: v1 still as it was
    w.rules.refresh_from_db()
    assert w.rules.loan_cap == Decimal("5000000.00") and w.rules.gov_share == Decimal("0.300")


def test_every_error_at_once_and_nothing_written(client, make_user):
    w = fund_world(make_user)
    client.force_login(w.office)
    response = client.post(
        reverse("riskfund:rules_new", args=[w.fund.code]),
        form_data(
            effective_from="2021-01-01",
            loan_cap="0",
            entity_types=[],
            loan_kinds=[],
            breaker_threshold="150",
            note="",
            limit_cap_0="100",
        ),
    )
    assert response.status_code == 422
    text = response.content.decode()
    for message in (
        "生效日期：不能早于今天",
        "单笔贷款金额上限：须大于 0",
        "覆盖的主体类型：请至少选择一种",
        "覆盖的贷款种类：请至少选择一种",
        "熔断不良率：须大于 0% 且小于 100%",
        "调整说明：请写明为什么调整规则",
        "请选择该限额适用的机构",
    ):
        assert message in text, message
    assert RuleSet.objects.filter(fund=w.fund).count() == 1
    # a typed input that does not parse is named with the others
    response = client.post(
        reverse("riskfund:rules_new", args=[w.fund.code]),
        form_data(loan_cap="很多", note=""),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "loan_cap" in errors and "note" in errors


def test_a_version_must_start_after_the_latest_and_change_something(make_user):
    w = fund_world(make_user)
    today = timezone.localdate()
    args = dict(
        fund=w.fund,
        loan_cap="5000000",
        entity_types=["enterprise"],
        sizes=["small", "micro"],
        loan_kinds=["credit", "first"],
        gov_share="0.3",
        min_overdue_days=90,
        note="复核",
    )
    with pytest.raises(ValidationError) as same:
        rule_set_create(actor=w.office, effective_from=today, **args)
    assert "完全相同" in str(same.value)
    rule_set_create(
        actor=w.office,
        effective_from=today + dt.timedelta(days=5),
        limits=[LimitIn(w.bank.pk, Decimal("100000"))],
        **args,
    )
    with pytest.raises(ValidationError) as early:
        rule_set_create(
            actor=w.office,
            effective_from=today + dt.timedelta(days=5),
            **{**args, "loan_cap": "6000000"},
        )
    assert "须晚于最新版本 v2 的生效日期" in str(early.value)
    # a limit for an organisation that does not lend is refused
    with pytest.raises(ValidationError) as not_lender:
        rule_set_create(
            actor=w.office,
            effective_from=today + dt.timedelta(days=6),
            limits=[LimitIn(w.finance.organisation_id, Decimal("1"))],
            **args,
        )
    assert "只能为银行或小额贷款公司设定" in str(not_lender.value)


def test_who_may_read_and_set_the_rules(client, make_user):
    province = fund_world(make_user)
    golmud = fund_world(make_user, division_code="632801")
    station = make_user("substation", ["operator_admin"], region_code="632801")
    auditor = make_user("operator", ["auditor"])
    url = reverse("riskfund:rules", args=[province.fund.code])
    new = reverse("riskfund:rules_new", args=[province.fund.code])
    # finance of the manager reads but does not set
    client.force_login(province.finance)
    assert client.get(url).status_code == 200
    assert client.get(new).status_code == 403
    # finance of another department does not read
    client.force_login(golmud.finance)
    assert client.get(url).status_code == 403
    # the lending bank and the auditor
    client.force_login(province.officer)
    assert client.get(url).status_code == 403
    client.force_login(auditor)
    assert client.get(url).status_code == 200
    assert client.get(new).status_code == 403
    # Golmud's sub-station runs Golmud's fund only
    client.force_login(station)
    assert client.get(url).status_code == 403
    assert client.get(reverse("riskfund:rules_new", args=[golmud.fund.code])).status_code == 200
    assert client.get(reverse("riskfund:rules", args=["no-such-fund"])).status_code == 404
