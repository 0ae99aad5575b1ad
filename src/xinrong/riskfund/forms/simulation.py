"""The simulator's form: the fund, the run's parameters and up to four scenarios side by side."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.riskfund.models import Fund
from xinrong.riskfund.services.simulation import (
    MAX_PATHS,
    MAX_YEARS,
    WAN,
    ScenarioIn,
    SimulationIn,
)

SLOTS = 4
SHARE_CHOICES = [
    ("0.2", gettext_lazy("2:8（政府分担20%）")),
    ("0.3", gettext_lazy("3:7（政府分担30%）")),
    ("0.4", gettext_lazy("4:6（政府分担40%）")),
    ("0.5", gettext_lazy("5:5（政府分担50%）")),
]


class SimulationForm(forms.Form):
    """Parameters of a run; scenario fields are ``s<i>_on/name/cap/individual/share``."""

    # the fund is picked above the form (its defaults depend on it), posted here hidden
    fund = forms.ModelChoiceField(
        label=gettext_lazy("基金"),
        queryset=Fund.objects.none(),
        empty_label=None,
        widget=forms.HiddenInput,
    )
    name = forms.CharField(label=gettext_lazy("测算名称"), max_length=100)
    paths = forms.IntegerField(
        label=gettext_lazy("模拟路径数"),
        min_value=100,
        max_value=MAX_PATHS,
        initial=2000,
        help_text=gettext_lazy("每条路径模拟一遍全部贷款的违约，路径越多结果越稳定，最多 10,000"),
    )
    seed = forms.IntegerField(
        label=gettext_lazy("随机种子"),
        min_value=0,
        max_value=2**62,
        initial=2026,
        help_text=gettext_lazy("同一种子、同样参数得到完全相同的结果"),
    )
    horizon_years = forms.IntegerField(
        label=gettext_lazy("测算年数"), min_value=1, max_value=MAX_YEARS, initial=1
    )
    rho = forms.DecimalField(
        label=gettext_lazy("违约相关系数 ρ"),
        min_value=Decimal("0"),
        max_value=Decimal("0.5"),
        decimal_places=3,
        initial=Decimal("0.1"),
        help_text=gettext_lazy(
            "0 表示各笔贷款独立违约；越大，经济下行时一起违约的贷款越多（0–0.5）"
        ),
    )
    lgd = forms.DecimalField(
        label=gettext_lazy("违约损失率（%）"),
        min_value=Decimal("1"),
        max_value=Decimal("100"),
        decimal_places=2,
        help_text=gettext_lazy("补偿后最终追不回的比例 = 100% − 预期追偿回收率"),
    )
    province_scale = forms.BooleanField(
        label=gettext_lazy("按全省规模测算（52万户市场主体，74%为个体工商户）"),
        required=False,
    )

    def __init__(
        self, *args: Any, funds: Any, scenarios: list[ScenarioIn] | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["fund"].queryset = funds  # type: ignore[attr-defined]
        scenarios = scenarios or []
        for i in range(1, SLOTS + 1):
            s = scenarios[i - 1] if i <= len(scenarios) else None
            self.fields[f"s{i}_on"] = forms.BooleanField(
                label=_("测算此情景"), required=False, initial=s is not None
            )
            self.fields[f"s{i}_name"] = forms.CharField(
                label=_("情景名称"), max_length=40, required=False, initial=s.name if s else ""
            )
            self.fields[f"s{i}_cap"] = forms.DecimalField(
                label=_("单笔贷款上限（万元）"),
                min_value=Decimal("1"),
                max_value=Decimal("100000"),
                decimal_places=2,
                required=False,
                initial=(s.loan_cap / WAN).quantize(Decimal("0.01")) if s else None,
            )
            self.fields[f"s{i}_individual"] = forms.BooleanField(
                label=_("覆盖个体工商户"), required=False, initial=s.individual if s else False
            )
            self.fields[f"s{i}_share"] = forms.ChoiceField(
                label=_("政府:银行分担比例"),
                choices=SHARE_CHOICES,
                required=False,
                initial=f"{s.share.normalize():f}" if s else "0.3",
            )

    def slots(self) -> list[list[Any]]:
        """The bound fields of each scenario slot, for the template."""
        return [
            [self[f"s{i}_{k}"] for k in ("on", "name", "cap", "individual", "share")]
            for i in range(1, SLOTS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = 0
        for i in range(1, SLOTS + 1):
            if not data.get(f"s{i}_on"):
                continue
            chosen += 1
            if not (data.get(f"s{i}_name") or "").strip():
                self.add_error(f"s{i}_name", _("情景%(i)d：请填写情景名称") % {"i": i})
            if data.get(f"s{i}_cap") is None and f"s{i}_cap" not in self.errors:
                self.add_error(f"s{i}_cap", _("情景%(i)d：请填写单笔贷款上限") % {"i": i})
            if not data.get(f"s{i}_share"):
                self.add_error(f"s{i}_share", _("情景%(i)d：请选择分担比例") % {"i": i})
        if chosen == 0:
            self.add_error(None, _("请至少勾选一个情景"))
        return data

    def to_input(self) -> SimulationIn:
        d = self.cleaned_data
        scenarios = [
            ScenarioIn(
                name=d[f"s{i}_name"].strip(),
                loan_cap=(d[f"s{i}_cap"] * WAN).quantize(Decimal("0.01")),
                individual=bool(d[f"s{i}_individual"]),
                share=Decimal(d[f"s{i}_share"]),
            )
            for i in range(1, SLOTS + 1)
            if d.get(f"s{i}_on")
        ]
        return SimulationIn(
            fund=d["fund"],
            name=d["name"],
            scenarios=scenarios,
            paths=d["paths"],
            seed=d["seed"],
            horizon_years=d["horizon_years"],
            rho=float(d["rho"]),
            lgd=float(d["lgd"]) / 100,
            province_scale=bool(d["province_scale"]),
        )
