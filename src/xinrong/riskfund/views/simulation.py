"""Pages of the risk fund: the sufficiency simulator (资金充足性测算)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, require
from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.common.exports import Sheet, xlsx_response
from xinrong.riskfund.forms.simulation import SimulationForm
from xinrong.riskfund.models import Simulation
from xinrong.riskfund.selectors import simulation as selectors
from xinrong.riskfund.services import simulation as services

WAN = Decimal("10000")


def _yuan(value: Any) -> Decimal:
    """A simulated figure (float yuan) as a Decimal rounded to the yuan, for display."""
    return Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def _wan_text(value: Any) -> str:
    """1234567.8 → "123.46"."""
    return f"{(Decimal(str(value)) / WAN).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%".replace(".00%", "%")


def _add_errors(form: SimulationForm, exc: Exception) -> None:
    """Put a service error on its fields (every field of a ValidationError at once)."""
    error_dict = getattr(exc, "error_dict", None)
    if error_dict:
        for name, errors in error_dict.items():
            for e in errors:
                for m in e.messages:
                    form.add_error(name if name in form.fields else None, m)
        return
    _status, body = error_payload(exc)
    field = str(body["extra"].get("field") or "")
    form.add_error(field if field in form.fields else None, body["message"])


@login_required
def simulator(request: HttpRequest) -> HttpResponse:
    """Pick a fund, set the scenarios side by side, run; the saved runs below."""
    user = request_user(request)
    require(user, "riskfund.simulation_view")
    funds = selectors.simulation_funds(user)
    runs = selectors.simulation_list(user)[:30]
    may_run = funds.exists()
    fund = None
    if may_run:
        posted = request.POST.get("fund", "")
        if posted.isdigit():
            fund = funds.filter(pk=int(posted)).first()
        else:
            fund = funds.filter(code=request.GET.get("fund", "")).first()
        fund = fund or funds.first()
    form = None
    lgd_source = ""
    status = 200
    if fund is not None:
        rules = selectors.rules_today(fund, timezone.localdate())
        scenarios = services.default_scenarios(rules)
        lgd, source = selectors.default_lgd(fund)
        lgd_source = (
            _("按本基金已补偿项目的实际追偿回收率推算")
            if source == "claims"
            else _("已补偿项目不足，暂按回收 40% 计")
        )
        initial = {
            "fund": fund,
            "name": _("%(fund)s %(day)s 测算")
            % {"fund": fund.name, "day": timezone.localdate().isoformat()},
            "lgd": (Decimal(str(lgd)) * 100).quantize(Decimal("0.01")),
        }
        form = SimulationForm(
            request.POST or None, funds=funds, scenarios=scenarios, initial=initial
        )
        if request.method == "POST":
            status = 422
            if form.is_valid():
                try:
                    sim = services.simulation_run(actor=user, data=form.to_input())
                except SERVICE_ERRORS as exc:
                    _add_errors(form, exc)
                else:
                    messages.success(request, _("测算完成"))
                    return redirect("riskfund:simulation_detail", pk=sim.pk)
    elif request.method == "POST":
        require(user, "riskfund.simulate")
    return render(
        request,
        "riskfund/simulation/simulator.html",
        {
            "form": form,
            "fund": fund,
            "funds": funds,
            "runs": runs,
            "lgd_source": lgd_source,
            "max_paths": services.MAX_PATHS,
        },
        status=status,
    )


def _rows(sim: Simulation) -> list[dict[str, Any]]:
    """Each scenario's figures for the page, with the sentence that reads them."""
    balance = sim.portfolio.get("balance", 0.0)
    rows = []
    for r in sim.results:
        available = balance - r.get("reserve", 0.0)
        rows.append(
            {
                **r,
                "cap_wan": _wan_text(r["loan_cap"]),
                "exposure_w": _wan_text(r["exposure"]),
                "reserve_w": _wan_text(r["reserve"]),
                "expected_w": _wan_text(r["expected"]),
                "mean_w": _wan_text(r["mean"]),
                "std_w": _wan_text(r["std"]),
                "p50_w": _wan_text(r["p50"]),
                "p95_w": _wan_text(r["p95"]),
                "p99_w": _wan_text(r["p99"]),
                "exhaustion_pct": _pct(r["exhaustion"]),
                "sentence": _(
                    "99%% 的情况下年度补偿支出不超过 %(p99)s 万元，平均每年 %(mean)s 万元；"
                    "基金在 %(years)d 年内耗尽的概率为 %(ex)s。"
                )
                % {
                    "p99": _wan_text(r["p99"]),
                    "mean": _wan_text(r["mean"]),
                    "years": sim.horizon_years,
                    "ex": _pct(r["exhaustion"]),
                },
                "covered_by_balance": r["p99"] <= available,
                "available_w": _wan_text(available),
            }
        )
    return rows


def _chart(sim: Simulation) -> dict[str, Any]:
    """What simulation.js draws (figures in 万元, probabilities in %)."""
    balance = sim.portfolio.get("balance", 0.0)
    out = []
    for r in sim.results:
        edges = r["histogram"]["edges"]
        counts = r["histogram"]["counts"]
        total = max(sum(counts), 1)
        out.append(
            {
                "name": r["name"],
                "available": round((balance - r.get("reserve", 0.0)) / 1e4, 2),
                "mean": round(r["mean"] / 1e4, 2),
                "p50": round(r["p50"] / 1e4, 2),
                "p95": round(r["p95"] / 1e4, 2),
                "p99": round(r["p99"] / 1e4, 2),
                "hist": [
                    [round((edges[i] + edges[i + 1]) / 2e4, 2), round(c * 100 / total, 3)]
                    for i, c in enumerate(counts)
                ],
                "exceed": [
                    [round(x / 1e4, 2), round(p * 100, 3)]
                    for x, p in zip(r["exceedance"]["x"], r["exceedance"]["p"], strict=True)
                ],
            }
        )
    return {"balance": round(balance / 1e4, 2), "scenarios": out}


@login_required
def simulation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A saved run: the scenarios side by side, charts, and what they mean in words."""
    user = request_user(request)
    sim = selectors.simulation_get(user, pk)
    return render(
        request,
        "riskfund/simulation/detail.html",
        {
            "sim": sim,
            "rows": _rows(sim),
            "p": sim.portfolio,
            "balance_w": _wan_text(sim.portfolio.get("balance", 0.0)),
            "injection_w": _wan_text(sim.portfolio.get("injection", 0.0)),
            "exposure_w": _wan_text(sim.portfolio.get("exposure", 0.0)),
            "mean_pd_pct": _pct(sim.portfolio.get("mean_pd", 0.0)),
            "lgd_pct": _pct(sim.portfolio.get("lgd", 0.0)),
            "chart": _chart(sim),
            "may_run": can(user, "riskfund.simulate", sim.fund),
        },
    )


@login_required
def simulation_export(request: HttpRequest, pk: int) -> FileResponse:
    """The run as Excel: a parameters sheet, a results sheet and the distributions."""
    user = request_user(request)
    sim = selectors.simulation_get(user, pk)
    p = sim.portfolio
    params: list[list[Any]] = [
        [_("基金"), sim.fund.name],
        [_("测算名称"), sim.name],
        [_("测算时间"), timezone.localtime(sim.created_at).replace(tzinfo=None)],
        [_("模拟路径数"), sim.paths],
        [_("随机种子"), sim.seed],
        [_("测算年数"), sim.horizon_years],
        [_("违约相关系数"), p.get("rho", 0.0)],
        [_("违约损失率"), p.get("lgd", 0.0)],
        [_("按全省规模"), _("是") if p.get("province_scale") else _("否")],
        [_("在贷笔数"), p.get("loans", 0)],
        [_("在贷余额（元）"), _yuan(p.get("exposure", 0.0))],
        [_("平均违约概率"), p.get("mean_pd", 0.0)],
        [_("已违约待补偿笔数"), p.get("pending", 0)],
        [_("基金余额（元）"), _yuan(p.get("balance", 0.0))],
        [_("年度计划注资（元）"), _yuan(p.get("injection", 0.0))],
        [_("依据规则版本"), p.get("rules_version", "")],
        [_("耗时（毫秒）"), sim.duration_ms],
    ]
    header = [
        _("情景"),
        _("单笔上限（元）"),
        _("覆盖个体工商户"),
        _("政府分担比例"),
        _("纳入笔数"),
        _("纳入余额（元）"),
        _("已违约待补偿预留（元）"),
        _("理论年均补偿（元）"),
        _("模拟年均补偿（元）"),
        _("标准差（元）"),
        _("中位数（元）"),
        _("95%分位（元）"),
        _("99%分位（元）"),
        _("最大值（元）"),
        _("耗尽概率"),
    ]
    results = [
        [
            r["name"],
            Decimal(r["loan_cap"]),
            _("是") if r["individual"] else _("否"),
            float(r["share"]),
            r["loans"],
            _yuan(r["exposure"]),
            _yuan(r["reserve"]),
            _yuan(r["expected"]),
            _yuan(r["mean"]),
            _yuan(r["std"]),
            _yuan(r["p50"]),
            _yuan(r["p95"]),
            _yuan(r["p99"]),
            _yuan(r["max"]),
            r["exhaustion"],
        ]
        for r in sim.results
    ]
    dist = [
        [r["name"], _yuan(lo), _yuan(hi), n]
        for r in sim.results
        for lo, hi, n in zip(
            r["histogram"]["edges"][:-1],
            r["histogram"]["edges"][1:],
            r["histogram"]["counts"],
            strict=True,
        )
    ]
    return xlsx_response(
        [
            Sheet(_("参数"), [_("项目"), _("值")], params, widths=(22, 40)),
            Sheet(_("结果"), header, results, widths=(26,) + (14,) * 14, freeze_header=True),
            Sheet(
                _("年度补偿分布"),
                [_("情景"), _("下限（元）"), _("上限（元）"), _("路径年数")],
                dist,
                widths=(26, 16, 16, 10),
            ),
        ],
        filename=f"资金充足性测算-{sim.pk}.xlsx",
        fallback=f"simulation-{sim.pk}.xlsx",
    )


urlpatterns: list[Any] = [
    path("simulator/", simulator, name="simulator"),
    path("simulator/<int:pk>/", simulation_detail, name="simulation_detail"),
    path("simulator/<int:pk>/export/", simulation_export, name="simulation_export"),
]
