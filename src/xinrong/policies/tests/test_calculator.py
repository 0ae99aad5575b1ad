"""The policy calculator (anonymous and logged in), 我的政策 and the push settings."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from ninja.testing import TestClient

from conftest import PASSWORD
from xinrong.policies.api_calculator import router
from xinrong.policies.models import CalculatorQuery, PushMute
from xinrong.policies.services import matching
from xinrong.policies.tests.test_matching import (
    TRADE,
    department,
    document,
    entity_of,
    make_measure,
)

pytestmark = pytest.mark.django_db
__all__ = ["department", "document"]  # fixtures used here

ANSWERS = {
    "entity_type": "enterprise",
    "industry": "F51",
    "region": "630102",
    "size_class": "small",
}


@pytest.fixture
def measures(document):
    return {
        "trade": make_measure(document, "C1", TRADE, title="商贸企业补贴"),
        "small_xining": make_measure(
            document,
            "C2",
            [
                {"field": "size_class", "op": "in", "value": ["small", "micro"]},
                {"field": "region", "op": "in", "value": ["630100"]},
                {"field": "tax_grade", "op": ">=", "value": "B"},
            ],
            title="西宁小微企业奖励",
            kind="award",
        ),
        "old": make_measure(
            document,
            "C3",
            [*TRADE, {"field": "years_in_business", "op": ">=", "value": 5}],
            title="老字号扶持",
        ),
        "farm": make_measure(
            document,
            "C4",
            [
                {"field": "industry", "op": "in", "value": ["A"]},
                {"field": "region", "op": "in", "value": ["632800"]},
            ],
            title="海西农牧补贴",
        ),
    }


def test_anonymous_calculator_answers_and_logs(client, measures):
    r = client.get("/policies/calculator/")
    assert r.status_code == 200 and "政策计算器" in r.content.decode()
    assert CalculatorQuery.objects.count() == 0
    r = client.get("/policies/calculator/", {**ANSWERS, "years_in_business": "2"})
    html = r.content.decode()
    assert r.status_code == 200
    eligible = html[html.index('id="answer-eligible"') : html.index('id="answer-near"')]
    near = html[html.index('id="answer-near"') :]
    assert "商贸企业补贴" in eligible and "西宁小微企业奖励" in eligible
    # the tax grade cannot be answered: listed to check, not decided
    assert "另需满足（请自行核对）：纳税信用等级不低于B级" in eligible
    assert "老字号扶持" in near and "还差：经营年限需达到5年" in near
    assert "海西农牧补贴" not in html
    q = CalculatorQuery.objects.get()
    assert q.entity is None and q.eligible == 2 and q.near == 1
    assert q.answers["industry"] == "F51" and q.answers["years_in_business"] == 2.0


def test_calculator_names_every_bad_answer(client, measures):
    r = client.get(
        "/policies/calculator/",
        {"entity_type": "robot", "industry": "ZZ", "region": "630102", "employees": "1.5"},
    )
    html = r.content.decode()
    assert r.status_code == 200
    for text in (
        "主体类型的选项不存在",
        "所属行业代码不符合",
        "请选择企业规模",
        "从业人数必须是整数",
    ):
        assert text in html
    assert CalculatorQuery.objects.count() == 0


def test_logged_in_enterprise_sees_its_own_result(client, measures, enterprise_user):
    client.login(username=enterprise_user.username, password=PASSWORD)
    r = client.get("/policies/calculator/")
    html = r.content.decode()
    assert 'id="own-result"' in html and "西宁测试商贸有限公司" in html
    own = html[html.index('id="own-eligible"') : html.index('id="calculator-form"')]
    assert "商贸企业补贴" in own
    q = CalculatorQuery.objects.get()
    assert q.entity == entity_of(enterprise_user) and q.eligible == 1


def test_other_users_see_only_the_questions(client, measures, make_user):
    officer = make_user("bank", ["loan_officer"])
    client.login(username=officer.username, password=PASSWORD)
    r = client.get("/policies/calculator/")
    assert r.status_code == 200 and 'id="own-result"' not in r.content.decode()


def test_my_policies_and_push_settings(client, measures, enterprise_user):
    matching.match_all(push=False)
    client.login(username=enterprise_user.username, password=PASSWORD)
    html = client.get("/policies/mine/").content.decode()
    eligible = html[html.index('id="eligible-list"') : html.index('id="near-list"')]
    near = html[html.index('id="near-list"') : html.index('id="push-settings"')]
    assert "商贸企业补贴" in eligible and "50,000.00" in eligible
    assert "老字号扶持" in near and "还差：平台暂无经营年限信息" in near
    r = client.post("/policies/mine/push/", {"kind": "award", "muted": "1"})
    assert r.status_code == 302
    firm = entity_of(enterprise_user)
    assert list(PushMute.objects.filter(entity=firm).values_list("kind", flat=True)) == ["award"]
    html = client.get("/policies/mine/").content.decode()
    assert "已停止推送“奖励”类政策" in html
    client.post("/policies/mine/push/", {"kind": "award", "muted": "0"})
    assert not PushMute.objects.filter(entity=firm).exists()
    r = client.post("/policies/mine/push/", {"kind": "nope", "muted": "1"}, follow=True)
    assert "措施类型不存在" in r.content.decode()


def test_my_policies_refuses_others(client, make_user):
    assert Client().get("/policies/mine/").status_code == 302
    officer = make_user("bank", ["loan_officer"])
    client.login(username=officer.username, password=PASSWORD)
    assert client.get("/policies/mine/").status_code == 403
    assert client.post("/policies/mine/push/", {"kind": "award", "muted": "1"}).status_code == 403
    assert not PushMute.objects.exists()


def test_api_calculator(measures):
    api = TestClient(router)
    body = api.post("/calculator", json=ANSWERS).json()
    # years in business not answered: the old-firm measure is listed, its condition to check
    old = next(i for i in body["eligible"] if i["code"] == "C3")
    assert old["unasked"] == ["经营年限不少于5年"]
    r = api.post("/calculator", json={**ANSWERS, "years_in_business": 2})
    assert r.status_code == 200
    body = r.json()
    assert {i["code"] for i in body["eligible"]} == {"C1", "C2"}
    c2 = next(i for i in body["eligible"] if i["code"] == "C2")
    assert c2["unasked"] == ["纳税信用等级不低于B级"] and c2["kind_label"] == "奖励"
    assert [i["code"] for i in body["near"]] == ["C3"]
    assert body["near"][0]["missing"][0]["field"] == "years_in_business"

    r = api.post("/calculator", json={"entity_type": "x", "region": "999999"})
    assert r.status_code == 422
    err = r.json()
    assert err["code"] == "invalid_answers"
    assert set(err["extra"]["fields"]) == {"entity_type", "industry", "region", "size_class"}
    assert "所在地区代码不是有效的行政区划代码" in json.dumps(err, ensure_ascii=False)
    assert CalculatorQuery.objects.count() == 2


def test_eligible_measures_lead_to_their_page_and_to_applying(client, measures, enterprise_user):
    """Found by the issue 14 journey: a measure the enterprise qualifies for offered no next
    step. Each now links to its page, and an apply-type one to 在线申请 (its own list only:
    the answers to questions are no proof of eligibility)."""
    matching.match_all(push=False)
    trade, old = measures["trade"], measures["old"]
    client.login(username=enterprise_user.username, password=PASSWORD)
    for url, start, end in (
        ("/policies/mine/", 'id="eligible-list"', 'id="near-list"'),
        ("/policies/calculator/", 'id="own-eligible"', 'id="calculator-form"'),
    ):
        html = client.get(url).content.decode()
        eligible = html[html.index(start) : html.index(end)]
        assert f'href="/policies/measures/{trade.code}/"' in eligible
        assert f'href="/policies/funds/apply/{trade.pk}/"' in eligible
        assert f"/policies/funds/apply/{old.pk}/" not in html  # a near miss: no button
    html = client.get("/policies/calculator/", ANSWERS).content.decode()
    answered = html[html.index('id="answers-result"') :]
    assert f'href="/policies/measures/{trade.code}/"' in answered
    assert "/apply/" not in answered
