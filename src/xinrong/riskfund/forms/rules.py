"""The form of a new rule version: amounts in 万元 (as the policy documents state them), the
government share as "3:7" choices, per-institution limits as rows; every error at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.common.forms import DateInput
from xinrong.enterprises.choices import EntityType
from xinrong.reference.choices import SizeClass
from xinrong.riskfund.choices import LoanKind
from xinrong.riskfund.eligibility import wan
from xinrong.riskfund.models import Fund, RuleSet
from xinrong.riskfund.selectors.rules import lender_choices, share_text
from xinrong.riskfund.services.rules import LimitIn, rule_set_problems

WAN = Decimal("10000")
SHARES = [Decimal(s) for s in ("0.100", "0.200", "0.300", "0.400", "0.500", "0.600")]
EXTRA_LIMIT_ROWS = 2


def _share_choices(current: Decimal | None) -> list[tuple[str, str]]:
    shares = list(SHARES)
    if current is not None and current not in shares:
        shares.append(current)
    return [
        (
            f"{s:.3f}",
            _("%(t)s（政府承担 %(p)s%%）")
            % {"t": share_text(s), "p": f"{(s * 100).normalize():f}"},
        )
        for s in sorted(shares)
    ]


def _to_yuan(value: Decimal | None) -> Decimal | None:
    return None if value is None else (value * WAN).quantize(Decimal("0.01"))


class RuleSetForm(forms.Form):
    """A new version of a fund's rules, prefilled with the newest version's terms."""

    effective_from = forms.DateField(label=gettext_lazy("生效日期"), widget=DateInput())
    loan_cap = forms.DecimalField(
        label=gettext_lazy("单笔贷款金额上限"),
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("单位：万元（500 即 ¥500 万）；超过上限的贷款不纳入补偿"),
    )
    entity_types = forms.MultipleChoiceField(
        label=gettext_lazy("覆盖的主体类型"),
        choices=EntityType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    sizes = forms.MultipleChoiceField(
        label=gettext_lazy("覆盖的企业规模"),
        choices=SizeClass.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("只对企业适用；个体工商户按主体类型判断"),
    )
    loan_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("覆盖的贷款种类"),
        choices=LoanKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("贷款符合任一种即可纳入"),
    )
    gov_share = forms.ChoiceField(
        label=gettext_lazy("政府分担比例"),
        help_text=gettext_lazy("政府 : 金融机构，按担保代偿后的剩余损失分担"),
    )
    covers_interest = forms.BooleanField(label=gettext_lazy("补偿利息损失"), required=False)
    min_overdue_days = forms.IntegerField(
        label=gettext_lazy("逾期多少天可申请补偿"), help_text=gettext_lazy("单位：天")
    )
    institution_year_cap = forms.DecimalField(
        label=gettext_lazy("每家机构每年补偿上限"),
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=gettext_lazy("单位：万元；留空为不设上限；下方可为个别机构另设限额"),
    )
    breaker_threshold = forms.DecimalField(
        label=gettext_lazy("熔断不良率"),
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=gettext_lazy("单位：%；机构平台贷款不良率高于此值时暂停对其补偿；留空为不设熔断"),
    )
    note = forms.CharField(
        label=gettext_lazy("调整说明"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=gettext_lazy("为什么调整（依据的文件、会议纪要），将显示在版本记录中"),
    )

    def __init__(self, *args: Any, fund: Fund, latest: RuleSet | None, **kwargs: Any) -> None:
        self.fund = fund
        self.today = kwargs.pop("today", None) or timezone.localdate()
        limits = list(latest.limits.order_by("id")) if latest is not None else []
        data = args[0] if args else kwargs.get("data")
        if latest is not None and "initial" not in kwargs:
            start = max(self.today, latest.effective_from + dt.timedelta(days=1))
            initial: dict[str, Any] = {
                "effective_from": start,
                "loan_cap": Decimal(wan(latest.loan_cap)),
                "entity_types": latest.entity_types,
                "sizes": latest.sizes,
                "loan_kinds": latest.loan_kinds,
                "gov_share": f"{latest.gov_share:.3f}",
                "covers_interest": latest.covers_interest,
                "min_overdue_days": latest.min_overdue_days,
                "institution_year_cap": Decimal(wan(latest.institution_year_cap))
                if latest.institution_year_cap is not None
                else None,
                "breaker_threshold": latest.breaker_threshold,
            }
            for i, lim in enumerate(limits):
                initial[f"limit_inst_{i}"] = lim.institution_id
                initial[f"limit_cap_{i}"] = Decimal(wan(lim.year_cap))
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        share_field = self.fields["gov_share"]
        assert isinstance(share_field, forms.ChoiceField)
        share_field.choices = _share_choices(latest.gov_share if latest else None)
        rows = len(limits) + EXTRA_LIMIT_ROWS
        if data is not None:  # keep every row the user sent, however many
            sent = [k for k in data if k.startswith("limit_inst_")]
            rows = max(rows, *(int(k.rsplit("_", 1)[1]) + 1 for k in sent if k[11:].isdigit()), 0)
        lenders = [("", _("（选择机构）")), *lender_choices()]
        self.limit_rows: list[tuple[str, str]] = []
        for i in range(rows):
            self.fields[f"limit_inst_{i}"] = forms.TypedChoiceField(
                label=_("机构限额 %(n)s：机构") % {"n": i + 1},
                choices=lenders,
                coerce=int,
                required=False,
                empty_value=None,
            )
            self.fields[f"limit_cap_{i}"] = forms.DecimalField(
                label=_("机构限额 %(n)s：每年上限（万元）") % {"n": i + 1},
                max_digits=12,
                decimal_places=2,
                required=False,
            )
            self.limit_rows.append((f"limit_inst_{i}", f"limit_cap_{i}"))

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("limit_")]

    def limit_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[a], self[b]) for a, b in self.limit_rows]

    def limits(self) -> list[LimitIn]:
        out = []
        for inst_name, cap_name in self.limit_rows:
            inst = self.cleaned_data.get(inst_name)
            cap = self.cleaned_data.get(cap_name)
            if inst and cap is not None:
                out.append(LimitIn(int(inst), _to_yuan(cap) or Decimal("0")))
        return out

    def service_args(self) -> dict[str, Any]:
        """The service's keyword arguments (amounts in yuan) from what parsed."""
        c = self.cleaned_data
        share = c.get("gov_share")
        return {
            "effective_from": c.get("effective_from"),
            "loan_cap": _to_yuan(c.get("loan_cap")),
            "entity_types": c.get("entity_types") or [],
            "sizes": c.get("sizes") or [],
            "loan_kinds": c.get("loan_kinds") or [],
            "gov_share": Decimal(share) if share else None,
            "covers_interest": bool(c.get("covers_interest")),
            "min_overdue_days": c.get("min_overdue_days"),
            "institution_year_cap": _to_yuan(c.get("institution_year_cap")),
            "breaker_threshold": c.get("breaker_threshold"),
            "limits": self.limits(),
            "note": c.get("note") or "",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for inst_name, cap_name in self.limit_rows:
            inst, cap = cleaned.get(inst_name), cleaned.get(cap_name)
            if inst and cap is None and cap_name not in self.errors:
                self.add_error(cap_name, _("请填写该机构的每年补偿上限"))
            if cap is not None and not inst and inst_name not in self.errors:
                self.add_error(inst_name, _("请选择该限额适用的机构"))
        # the rules' own checks on what parsed, so every error shows at once
        args = self.service_args()
        args.pop("covers_interest")
        problems = rule_set_problems(fund=self.fund, today=self.today, **args)
        for name, messages in problems.items():
            if name in self.errors:
                continue
            for m in messages:
                self.add_error(name if name in self.fields else None, m)
        return cleaned
