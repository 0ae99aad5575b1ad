"""The 甘霖 grid programme: visits, merchant files, the gap report, programme loans, who may."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from xinrong.accounts.permissions import can
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_uscc
from xinrong.insight.models import GridVisit, MerchantFile
from xinrong.insight.selectors import grid as selectors
from xinrong.insight.services import grid as services
from xinrong.insight.services.grid import VisitIn
from xinrong.riskfund.tests.factories import _published_product, platform_loan

pytestmark = pytest.mark.django_db

BEIGUAN = "630102001001"  # 西宁 城东区 东关大街街道 北关社区
CIYOU = "630102001004"  # 慈幼社区
GOLMUD_VILLAGE = "632801001001"  # 格尔木 昆仑路街道 博爱巷社区


@pytest.fixture
def bank_grid(make_user: Any) -> Any:
    return make_user("bank", ["field_officer"], display_name="银行网格员")


@pytest.fixture
def community_grid(make_user: Any) -> Any:
    return make_user(
        "government", ["field_officer"], region_code="630102", display_name="社区网格员"
    )


def _visit(officer: Any, **kw: Any) -> GridVisit:
    data: dict[str, Any] = {
        "visited_on": timezone.localdate() - dt.timedelta(days=3),
        "merchant_name": "老马杂货店",
        "division_code": BEIGUAN,
        "result": "intent",
        "consent": True,
    }
    data.update(kw)
    return services.grid_visit_record(officer=officer, visit_in=VisitIn(**data))


# ---------------------------------------------------------------- visits


def test_a_consenting_visit_is_recorded_with_the_time_of_consent(bank_grid: Any) -> None:
    visit = _visit(
        bank_grid, address="  东关大街 12 号  ", uscc=valid_uscc(seed=7, individual=True)
    )
    assert visit.consent is True and visit.consent_at is not None
    assert visit.organisation == bank_grid.organisation
    assert visit.address == "东关大街 12 号"
    assert visit.refusal_reason == ""


def test_a_bad_visit_reports_every_broken_rule_at_once(bank_grid: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        _visit(
            bank_grid,
            merchant_name=" ",
            division_code="630102",  # a county, not a community
            uscc="91630100XXXXXXXX",
            result="refused",
            consent=True,
            visited_on=timezone.localdate() + dt.timedelta(days=1),
        )
    errors = caught.value.message_dict
    assert set(errors) == {
        "merchant_name",
        "division_code",
        "uscc",
        "consent",
        "refusal_reason",
        "visited_on",
    }
    assert errors["refusal_reason"] == ["未建档原因：拒绝或未遇到时必选"]
    assert GridVisit.objects.count() == 0


def test_other_reason_needs_its_text_and_refusals_cannot_consent(bank_grid: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        _visit(bank_grid, result="refused", consent=False, refusal_reason="other")
    assert caught.value.message_dict == {"refusal_note": ["原因说明：选择“其他”时必填"]}
    visit = _visit(
        bank_grid, result="not_met", consent=False, refusal_reason="owner_absent", refusal_note="x"
    )
    assert visit.consent is False and visit.consent_at is None
    assert visit.refusal_note == ""  # kept only for “其他”


def test_only_field_officers_record_visits(bank_officer: Any, bank_grid: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        _visit(bank_officer)
    assert can(bank_grid, "insight.grid_visit_record")
    assert not can(bank_officer, "insight.grid_visit_record")


# ---------------------------------------------------------------- merchant files


def test_a_file_of_a_new_merchant_registers_an_individual_business(bank_grid: Any) -> None:
    code = valid_uscc(seed=11, individual=True)
    visit = _visit(bank_grid, address="东关大街 12 号")
    file = services.merchant_file_build(officer=bank_grid, visit=visit, uscc=code)
    entity = MarketEntity.objects.get(uscc=code)
    assert file.entity == entity and file.entity_created is True
    assert entity.entity_type == EntityType.INDIVIDUAL_BUSINESS
    assert entity.name == "老马杂货店" and entity.division_code == BEIGUAN
    visit.refresh_from_db()
    assert visit.uscc == code
    with pytest.raises(ConflictError):
        services.merchant_file_build(officer=bank_grid, visit=visit, uscc=code)


def test_a_file_of_a_registered_merchant_links_the_entity(bank_grid: Any) -> None:
    entity = MarketEntityFactory(division_code=BEIGUAN)
    visit = _visit(bank_grid, uscc=entity.uscc)
    file = services.merchant_file_build(officer=bank_grid, visit=visit)
    assert file.entity == entity and file.entity_created is False
    assert MarketEntity.objects.count() == 1


def test_no_file_without_consent_nor_by_another_officer(
    bank_grid: Any, community_grid: Any
) -> None:
    refused = _visit(bank_grid, result="refused", consent=False, refusal_reason="unwilling")
    with pytest.raises(ConflictError):
        services.merchant_file_build(
            officer=bank_grid, visit=refused, uscc=valid_uscc(seed=3, individual=True)
        )
    consenting = _visit(bank_grid)
    with pytest.raises(PermissionDeniedError):
        services.merchant_file_build(
            officer=community_grid, visit=consenting, uscc=valid_uscc(seed=4, individual=True)
        )
    with pytest.raises(ValidationError) as caught:
        services.merchant_file_build(officer=bank_grid, visit=consenting, uscc="")
    assert "uscc" in caught.value.message_dict
    assert not can(community_grid, "insight.grid_file_build", consenting)
    assert can(bank_grid, "insight.grid_file_build", consenting)
    assert not can(bank_grid, "insight.grid_file_build", refused)


# ---------------------------------------------------------------- the gap report


def _world(bank_grid: Any, community_grid: Any) -> dict[str, Any]:
    """Bank officer: 3 visits in week 1 (2 consent, 1 built; 1 refused 不愿意) and 1 in week 2
    (未遇到, 店主不在) at 慈幼; community officer: 2 in week 2 (1 consent built, 1 信息有误)."""
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 14)
    w1, w2 = monday, monday + dt.timedelta(days=7)
    a1 = _visit(bank_grid, visited_on=w1)
    _visit(bank_grid, visited_on=w1 + dt.timedelta(days=1))
    _visit(
        bank_grid,
        visited_on=w1 + dt.timedelta(days=2),
        result="refused",
        consent=False,
        refusal_reason="unwilling",
    )
    _visit(
        bank_grid,
        visited_on=w2,
        division_code=CIYOU,
        result="not_met",
        consent=False,
        refusal_reason="owner_absent",
    )
    b1 = _visit(community_grid, visited_on=w2 + dt.timedelta(days=1))
    _visit(
        community_grid,
        visited_on=w2 + dt.timedelta(days=2),
        result="refused",
        consent=False,
        refusal_reason="wrong_details",
    )
    services.merchant_file_build(
        officer=bank_grid, visit=a1, uscc=valid_uscc(seed=21, individual=True)
    )
    services.merchant_file_build(
        officer=community_grid, visit=b1, uscc=valid_uscc(seed=22, individual=True)
    )
    return {"w1": w1, "w2": w2}


def _row(rows: list[selectors.GapRow], key: Any) -> selectors.GapRow:
    return next(r for r in rows if r.key == key)


def test_gap_report_by_officer_bank_community_and_week(
    operator: Any, bank_grid: Any, community_grid: Any
) -> None:
    world = _world(bank_grid, community_grid)
    rows, total = selectors.gap_report(user=operator, by="officer")
    a, b = _row(rows, bank_grid.pk), _row(rows, community_grid.pk)
    assert (a.visits, a.consents, a.files, a.gap, a.waiting) == (4, 2, 1, 3, 1)
    assert a.reasons == {"owner_absent": 1, "wrong_details": 0, "unwilling": 1, "other": 0}
    assert (b.visits, b.consents, b.files, b.gap, b.waiting) == (2, 1, 1, 1, 0)
    assert a.file_rate == "25.0%" and b.file_rate == "50.0%"
    assert rows[0] is a  # the biggest gap first
    assert (total.visits, total.files, total.gap) == (6, 2, 4)
    assert total.reasons == {"owner_absent": 1, "wrong_details": 1, "unwilling": 1, "other": 0}

    rows, _t = selectors.gap_report(user=operator, by="organisation")
    assert _row(rows, bank_grid.organisation_id).visits == 4
    assert _row(rows, community_grid.organisation_id).gap == 1

    rows, _t = selectors.gap_report(user=operator, by="community")
    assert (_row(rows, BEIGUAN).visits, _row(rows, BEIGUAN).files) == (5, 2)
    assert _row(rows, CIYOU).reasons["owner_absent"] == 1
    assert _row(rows, BEIGUAN).label == "城东区 · 东关大街街道 · 北关社区居民委员会"

    rows, _t = selectors.gap_report(user=operator, by="week")
    assert [(r.visits, r.files) for r in rows] == [(3, 1), (3, 1)]
    assert rows[0].label.startswith(world["w2"].isoformat())  # newest week first

    rows, total = selectors.gap_report(user=operator, by="officer", since=world["w2"])
    assert total.visits == 3 and total.files == 1


def test_each_sees_only_its_own_visits(
    make_user: Any, operator: Any, bank_grid: Any, community_grid: Any, substation_operator: Any
) -> None:
    _world(bank_grid, community_grid)
    golmud_grid = make_user("government", ["field_officer"], region_code="632801")
    _visit(golmud_grid, division_code=GOLMUD_VILLAGE)
    bank_admin = make_user("bank", ["institution_admin"], org=bank_grid.organisation)
    other_bank_admin = make_user("bank", ["institution_admin"])
    counts = {
        "operator": selectors.visits_visible(user=operator).count(),
        "bank_grid": selectors.visits_visible(user=bank_grid).count(),
        "community_grid": selectors.visits_visible(user=community_grid).count(),
        "bank_admin": selectors.visits_visible(user=bank_admin).count(),
        "other_bank_admin": selectors.visits_visible(user=other_bank_admin).count(),
        "golmud": selectors.visits_visible(user=substation_operator).count(),
    }
    assert counts == {
        "operator": 7,
        "bank_grid": 4,
        "community_grid": 2,
        "bank_admin": 4,
        "other_bank_admin": 0,
        "golmud": 1,
    }
    _rows, total = selectors.gap_report(user=substation_operator, by="community")
    assert total.visits == 1
    xining_visit = GridVisit.objects.filter(division_code=BEIGUAN).first()
    assert not can(substation_operator, "insight.grid_visits_view", xining_visit)
    assert can(operator, "insight.grid_visits_view", xining_visit)
    assert not can(bank_grid, "insight.grid_loans_view")
    assert can(substation_operator, "insight.grid_loans_view")


def test_departments_read_the_figures_not_the_visit_records(
    client: Any, gov_reviewer: Any, bank_grid: Any, community_grid: Any
) -> None:
    _world(bank_grid, community_grid)
    visit = GridVisit.objects.first()
    assert visit is not None
    assert not can(gov_reviewer, "insight.grid_visits_view")
    assert not can(gov_reviewer, "insight.grid_visits_view", visit)
    _rows, total = selectors.gap_report(user=gov_reviewer, by="community")
    assert (total.visits, total.files) == (6, 2)
    _login(client, gov_reviewer)
    assert client.get(reverse("insight:grid_visit_detail", args=[visit.pk])).status_code == 403
    assert client.get(reverse("insight:grid_visits")).status_code == 403
    assert client.get(reverse("insight:grid_report")).status_code == 200


# ---------------------------------------------------------------- programme loans


def test_programme_loans_are_those_disbursed_after_the_visit(
    operator: Any, bank_officer: Any, bank_grid: Any, substation_operator: Any
) -> None:
    product = _published_product(bank_officer, code="GRID-1", name="网格贷")
    entity = MarketEntityFactory(division_code=BEIGUAN, entity_type="individual_business")
    day = timezone.localdate() - dt.timedelta(days=60)
    visit = _visit(bank_grid, visited_on=day, uscc=entity.uscc)
    services.merchant_file_build(officer=bank_grid, visit=visit)
    org = bank_officer.organisation
    kw: dict[str, Any] = {"entity": entity, "status": "active", "overdue_days": 0}
    platform_loan(
        org,
        bank_officer,
        product,
        disbursed_on=day - dt.timedelta(days=1),
        principal="50000.00",
        **kw,
    )
    platform_loan(org, bank_officer, product, disbursed_on=day, principal="80000.55", **kw)
    platform_loan(
        org,
        bank_officer,
        product,
        disbursed_on=day + dt.timedelta(days=20),
        principal="120000.10",
        **kw,
    )
    platform_loan(
        org,
        bank_officer,
        product,
        disbursed_on=day + dt.timedelta(days=5),
        principal="999.00",
        status="active",
        overdue_days=0,
    )  # not a programme merchant
    totals = selectors.programme_loan_totals(user=operator)
    assert totals == {"count": 2, "amount": Decimal("200000.65")}
    assert selectors.programme_loan_totals(user=substation_operator) == {
        "count": 0,
        "amount": Decimal("0.00"),
    }


# ---------------------------------------------------------------- pages


def _login(client: Any, user: Any) -> Any:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_officer_records_a_visit_and_builds_the_file_on_the_pages(
    client: Any, bank_grid: Any, operator: Any
) -> None:
    _login(client, bank_grid)
    page = client.get(reverse("insight:grid_visit_new") + "?area=630102")
    assert page.status_code == 200 and "北关社区居民委员会" in page.content.decode()
    bad = client.post(
        reverse("insight:grid_visit_new") + "?area=630102",
        {"visited_on": timezone.localdate().isoformat(), "result": "refused"},
    )
    assert bad.status_code == 422
    body = bad.content.decode()
    assert "商户名称：必填" in body and "社区/村：请选择到社区或村一级" in body
    assert "未建档原因：拒绝或未遇到时必选" in body
    ok = client.post(
        reverse("insight:grid_visit_new") + "?area=630102",
        {
            "visited_on": timezone.localdate().isoformat(),
            "merchant_name": "阿娘面馆",
            "division_code": BEIGUAN,
            "result": "intent",
            "consent": "yes",
        },
    )
    visit = GridVisit.objects.get()
    assert ok.status_code == 302 and ok.url == reverse("insight:grid_visit_detail", args=[visit.pk])
    detail = client.get(ok.url)
    assert "建立信用档案" in detail.content.decode()
    built = client.post(
        reverse("insight:grid_file_build", args=[visit.pk]),
        {"uscc": valid_uscc(seed=31, individual=True)},
    )
    assert built.status_code == 302
    assert MerchantFile.objects.filter(visit=visit).exists()
    again = client.post(reverse("insight:grid_file_build", args=[visit.pk]), {"uscc": "x"})
    assert again.status_code == 403
    report = client.get(reverse("insight:grid_report"))
    assert report.status_code == 200 and "阿娘面馆" not in report.content.decode()
    assert client.get(reverse("insight:grid_loans")).status_code == 403
    export = client.get(reverse("insight:grid_visits_export"))
    assert export.status_code == 200
    client.logout()
    _login(client, operator)
    _rows, total = selectors.gap_report(user=operator, by="officer")
    assert (total.visits, total.files) == (1, 1)
    assert client.get(reverse("insight:grid_report") + "?by=week").status_code == 200
    assert client.get(reverse("insight:grid_report_export") + "?by=community").status_code == 200
    assert client.get(reverse("insight:grid_loans")).status_code == 200
    assert client.get(reverse("insight:grid_visit_new")).status_code == 403


def test_a_loan_officer_cannot_open_the_grid_pages(client: Any, bank_officer: Any) -> None:
    _login(client, bank_officer)
    assert client.get(reverse("insight:grid_visit_new")).status_code == 403
    assert client.get(reverse("insight:grid_visits")).status_code == 403
    assert client.get(reverse("insight:grid_report")).status_code == 403


def test_the_field_officer_has_its_own_home_and_menu(
    client: Any, bank_grid: Any, community_grid: Any, gov_reviewer: Any
) -> None:
    from xinrong.web.navigation import menu_for

    for officer in (bank_grid, community_grid):
        menu = {s.label: [link.label for link in s.links] for s in menu_for(officer, "/")}
        grid_links = [label for links in menu.values() for label in links if "走访" in label]
        assert grid_links == ["登记走访", "走访记录", "走访建档缺口"]
    _visit(community_grid, visited_on=timezone.localdate())
    _login(client, community_grid)
    home = client.get("/")
    body = home.content.decode()
    assert home.status_code == 200 and "网格员工作台" in body
    assert 'data-stat="today">1<' in body and 'data-stat="waiting">1<' in body
    client.logout()
    _login(client, gov_reviewer)
    body = client.get("/").content.decode()
    assert 'id="wb-grid"' in body and 'data-stat="grid-visits">1<' in body
