"""The simulator on the platform: the fund's book as columns, saved runs, pages, export, access."""

from __future__ import annotations

import io
import math
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.credit.models import CreditProfile, ScoreModel
from xinrong.riskfund.models import Fund, Simulation
from xinrong.riskfund.selectors import simulation as sel
from xinrong.riskfund.services import simulation as services
from xinrong.riskfund.tests.factories import fund_world, platform_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    w = fund_world(make_user, balance="2000000.00")

    def mk(**kw):
        return platform_loan(w.bank, w.officer, w.product, **({"status": "current"} | kw))

    w.small = mk(principal="3000000.00", outstanding="2000000.00")
    w.big = mk(principal="8000000.00")  # above ¥5m: covered only with a ¥10m cap
    w.shop = mk(principal="500000.00", entity_type="individual_business", size_class="")
    w.medium = mk(principal="1000000.00", size_class="medium")  # rules cover small, micro
    w.settled = mk(principal="1000000.00", status="settled", outstanding="0")
    w.golmud = mk(principal="1000000.00", division_code="632801")
    w.pending = platform_loan(w.bank, w.officer, w.product, principal="400000.00")  # defaulted
    Fund.objects.create(
        code=f"golmud-{w.fund.pk}",
        name="格尔木基金",
        level="city",
        division_code="632801",
        manager=w.fund.manager,
        office=w.fund.office,
        opened_on=w.fund.opened_on,
    )
    model = ScoreModel.objects.create(
        version=900 + w.fund.pk,
        name="测试卡",
        status="active",
        card={"base_points": 600, "base_odds": 50, "pdo": 20},
    )
    # score 600 → odds 50 : 1 → PD 1/51
    CreditProfile.objects.create(entity=w.small.entity, model=model, score=600, grade="B")
    return w


def _four(w):
    return services.default_scenarios(w.rules)


def test_the_book_is_the_funds_unsettled_loans_outside_inner_funds_with_pd_from_the_score(world):
    with CaptureQueriesContext(connection) as queries:
        book = sel.fund_portfolio(world.fund)
    # inner funds, the loans (one query whatever their number), paid claims, the score scale
    assert len(queries) == 4
    ids = set(book.loan_id.tolist())
    assert world.settled.pk not in ids and world.golmud.pk not in ids
    assert {world.small.pk, world.big.pk, world.shop.pk, world.medium.pk, world.pending.pk} == ids
    row = book.loan_id.tolist().index(world.small.pk)
    assert book.pd[row] == pytest.approx(1 / 51)
    assert book.exposure[row] == 2_000_000.0 and book.scored[row]
    assert book.pending.tolist()[book.loan_id.tolist().index(world.pending.pk)]
    assert book.pd[book.loan_id.tolist().index(world.big.pk)] == sel.DEFAULT_PD


def test_scenarios_cover_what_the_rules_and_their_overrides_say(world):
    book = sel.fund_portfolio(world.fund)
    rules = world.rules
    current = sel.eligible_mask(
        book,
        entity_types=list(rules.entity_types),
        sizes=list(rules.sizes),
        loan_kinds=list(rules.loan_kinds),
        loan_cap=5e6,
    )
    wide = sel.eligible_mask(
        book,
        entity_types=["enterprise", "individual_business"],
        sizes=list(rules.sizes),
        loan_kinds=list(rules.loan_kinds),
        loan_cap=1e7,
    )
    covered = set(book.loan_id[current].tolist())
    assert covered == {world.small.pk, world.pending.pk}
    assert set(book.loan_id[wide].tolist()) == covered | {world.big.pk, world.shop.pk}


def test_a_run_saves_four_scenarios_whose_mean_matches_the_analytic_one(world):
    sim = services.simulation_run(
        actor=world.office,
        data=services.SimulationIn(
            fund=world.fund, name="测试", scenarios=_four(world), paths=3000, seed=1
        ),
    )
    sim.refresh_from_db()
    assert [r["loans"] for r in sim.results] == [1, 2, 3, 3]
    r = sim.results
    # ¥2m × 60% × 30% at PD 1/51 for the scored loan
    assert r[0]["expected"] == pytest.approx(2e6 * 0.6 * 0.3 / 51, abs=0.01)
    assert r[3]["expected"] == pytest.approx(r[2]["expected"] * 4 / 3, abs=0.02)
    for row in r:
        sd = math.sqrt(row["std"] ** 2 / sim.paths) + 1
        assert abs(row["mean"] - row["expected"]) < 4 * sd
        assert row["reserve"] == pytest.approx(400_000 * 0.6 * float(row["share"]))
    assert sim.portfolio["loans"] == 4 and sim.portfolio["pending"] == 1
    assert sim.portfolio["balance"] == 2_000_000.0


def test_province_scale_multiplies_borrowers_by_type(world):
    book = sel.fund_portfolio(world.fund)
    scaled, note = services.province_scaled(world.fund, book, seed=3)
    assert len(scaled) > 10 * len(book)
    assert set(np.unique(scaled.loan_id)) <= set(book.loan_id.tolist())
    assert note["borrowers"]["individual_business"] > 0


def test_bad_parameters_are_all_refused_at_once_naming_the_fields(world, client):
    client.force_login(world.office)
    data = {
        "fund": world.fund.pk,
        "name": "",
        "paths": "20000",
        "seed": "-1",
        "horizon_years": "1",
        "rho": "0.9",
        "lgd": "0",
        "s1_on": "on",
        "s1_name": "",
        "s1_cap": "",
        "s1_share": "0.3",
    }
    response = client.post(reverse("riskfund:simulator"), data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"name", "paths", "seed", "rho", "lgd", "s1_name", "s1_cap"} <= set(errors)
    assert "请填写情景名称" in str(errors["s1_name"])
    assert Simulation.objects.count() == 0


def test_too_much_work_for_the_page_is_refused_with_the_most_paths_allowed(world, monkeypatch):
    monkeypatch.setattr(services, "MAX_DRAWS", 10_000)
    with pytest.raises(Exception) as refused:
        services.simulation_run(
            actor=world.office,
            data=services.SimulationIn(
                fund=world.fund, name="大", scenarios=_four(world), paths=5000
            ),
        )
    assert "最多 2,000 条路径" in str(refused.value)
    assert Simulation.objects.count() == 0


def _form_data(w, **over):
    data = {
        "fund": w.fund.pk,
        "name": "页面测算",
        "paths": "500",
        "seed": "7",
        "horizon_years": "2",
        "rho": "0.1",
        "lgd": "60",
    }
    for i, s in enumerate(_four(w), start=1):
        data |= {
            f"s{i}_on": "on",
            f"s{i}_name": s.name,
            f"s{i}_cap": str(s.loan_cap / 10000),
            f"s{i}_share": str(s.share.normalize()),
        }
        if s.individual:
            data[f"s{i}_individual"] = "on"
    return data | over


def test_the_office_runs_it_on_the_page_reads_it_and_exports_it(world, client):
    client.force_login(world.office)
    page = client.get(reverse("riskfund:simulator"))
    assert page.status_code == 200
    assert "现行规则" in page.content.decode()
    response = client.post(reverse("riskfund:simulator"), _form_data(world))
    assert response.status_code == 302, response.context["form"].errors
    sim = Simulation.objects.get()
    assert sim.horizon_years == 2 and sim.created_by == world.office
    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert "99% 的情况下年度补偿支出不超过" in html
    assert 'id="data-sim"' in html and "riskfund/simulation.js" in html
    assert "<script>" not in html.split('id="data-sim"')[0][-200:]  # data only, no inline code
    export = client.get(reverse("riskfund:simulation_export", args=[sim.pk]))
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    assert book.sheetnames == ["参数", "结果", "年度补偿分布"]
    rows = list(book["结果"].iter_rows(values_only=True))
    assert rows[0][0] == "情景" and len(rows) == 5
    assert rows[1][1] == 5_000_000 and isinstance(rows[1][8], int | float)
    assert rows[4][3] == pytest.approx(0.4)
    params = dict(book["参数"].iter_rows(values_only=True))
    assert params["模拟路径数"] == 500 and params["随机种子"] == 7


def test_who_may_simulate_and_who_may_only_read(world, client, make_user):
    sim = services.simulation_run(
        actor=world.finance,
        data=services.SimulationIn(fund=world.fund, name="财政", scenarios=_four(world), paths=200),
    )
    url = reverse("riskfund:simulation_detail", args=[sim.pk])
    auditor = make_user("operator", ["auditor"])
    other_finance = make_user("government", ["fund_approver"])
    golmud_station = make_user("substation", ["operator_admin"], region_code="632801")
    cases = [
        (world.officer, 403, 403),  # a lending institution
        (auditor, 200, 200),  # reads, the form is not shown
        (other_finance, 404, 200),  # another department: not its fund
        (golmud_station, 404, 200),  # the Golmud sub-station: not the province's fund
        (world.finance2, 200, 200),
    ]
    for user, detail_status, list_status in cases:
        client.force_login(user)
        assert client.get(url).status_code == detail_status, user
        listing = client.get(reverse("riskfund:simulator"))
        assert listing.status_code == list_status, user
        if list_status == 200:
            assert (sim.name in listing.content.decode()) == (detail_status == 200)
    client.force_login(auditor)
    assert client.get(reverse("riskfund:simulator")).context["form"] is None
    response = client.post(reverse("riskfund:simulator"), _form_data(world))
    assert response.status_code == 403
    client.force_login(golmud_station)
    funds = list(client.get(reverse("riskfund:simulator")).context["funds"])
    assert [f.division_code for f in funds] == ["632801"]
    assert Simulation.objects.count() == 1


def test_a_decimal_cap_in_wan_becomes_yuan(world):
    from xinrong.riskfund.forms.simulation import SimulationForm

    form = SimulationForm(
        _form_data(world, s1_cap="12.5"), funds=Fund.objects.all(), scenarios=_four(world)
    )
    assert form.is_valid(), form.errors
    assert form.to_input().scenarios[0].loan_cap == Decimal("125000.00")
