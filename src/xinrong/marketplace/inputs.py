"""Typed inputs of the marketplace services: a form's cleaned data and an API payload both become
one of these frozen objects, validated once, before a service runs.

``parse`` reports every bad field at once: it raises one ``ValidationError({field: [...]})``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from xinrong.common.templatetags.money import amount_text
from xinrong.enterprises.choices import EntityType
from xinrong.marketplace.choices import (
    TAX_GRADES,
    CollateralMode,
    DemandPurpose,
    DemandUrgency,
    ProductType,
    RepaymentMethod,
)
from xinrong.marketplace.services.common import GRADES, RATE_CEILING, _choices, _decimal, _int
from xinrong.reference import divisions, industries

T = TypeVar("T")
CENT = Decimal("0.01")


class _Errors:
    """Collects the errors of several fields (a field's later rules skip once it has one)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, code: str) -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def has(self, *fields: str) -> bool:
        return any(f in self.errors for f in fields)

    def get(self, field: str, parse: Callable[[], T]) -> T | None:
        """Run ``parse``; on a ValidationError record its messages under ``field``, return None."""
        try:
            return parse()
        except ValidationError as exc:
            for name, errors in exc.error_dict.items() if hasattr(exc, "error_dict") else ():
                self.errors.setdefault(name, []).extend(errors)
            if not hasattr(exc, "error_dict"):
                self.errors.setdefault(field, []).extend(exc.error_list)
            return None

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _codes(data: Mapping[str, Any], field: str) -> list[str]:
    raw = data.get(field) or []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,，;；\s]+", raw) if p]
    return [str(v).strip().upper() for v in raw if str(v).strip()]


@dataclass(frozen=True)
class ProductTermsIn:
    """Every term of a product version, typed and normalised."""

    product_type: str
    amount_min: Decimal
    amount_max: Decimal
    term_min_months: int
    term_max_months: int
    rate_min: Decimal
    rate_max: Decimal
    repayment_methods: tuple[str, ...]
    entity_types: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    min_years_in_business: Decimal = Decimal("0.0")
    min_credit_grade: str = ""
    tax_grades: tuple[str, ...] = ()
    collateral_modes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    supports_relending: bool = False
    supports_rediscount: bool = False
    days_to_accept: int = 3
    days_to_decide: int = 7
    description: str = ""

    def as_terms(self) -> dict[str, Any]:
        """Return the terms as stored on ``ProductVersion`` (lists, Decimals, ints)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in self.__dict__.items()
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ProductTermsIn:
        """Validate and normalise raw terms; raise one ValidationError naming every bad field."""
        err = _Errors()
        ptype = str(data.get("product_type") or "")
        if ptype not in ProductType.values:
            err.add(
                "product_type",
                _("产品类型无效，可选：%(allowed)s") % {"allowed": "、".join(ProductType.values)},
                "invalid_choice",
            )

        amin = err.get("amount_min", lambda: _decimal(data, "amount_min", _("最低额度")))
        amax = err.get("amount_max", lambda: _decimal(data, "amount_max", _("最高额度")))
        if amin is not None and amin <= 0:
            err.add("amount_min", _("最低额度必须大于 0 元"), "out_of_range")
        if amin is not None and amax is not None and not err.has("amount_min") and amin > amax:
            err.add(
                "amount_max",
                _("最高额度（%(max)s）不能小于最低额度（%(min)s）")
                % {"max": amount_text(amax), "min": amount_text(amin)},
                "out_of_range",
            )
        if amax is not None and not err.has("amount_max") and amax >= Decimal("1e14"):
            err.add("amount_max", _("最高额度过大"), "out_of_range")

        tmin = err.get("term_min_months", lambda: _int(data, "term_min_months", _("最短期限")))
        tmax = err.get("term_max_months", lambda: _int(data, "term_max_months", _("最长期限")))
        for field, term, label in (
            ("term_min_months", tmin, _("最短期限")),
            ("term_max_months", tmax, _("最长期限")),
        ):
            if term is not None and not 1 <= term <= 360:
                err.add(
                    field,
                    _("%(label)s应在 1–360 个月之间，实际为 %(v)s") % {"label": label, "v": term},
                    "out_of_range",
                )
        terms_ok = not err.has("term_min_months", "term_max_months")
        if tmin is not None and tmax is not None and terms_ok and tmin > tmax:
            err.add(
                "term_max_months",
                _("最长期限（%(max)s 个月）不能小于最短期限（%(min)s 个月）")
                % {"max": tmax, "min": tmin},
                "out_of_range",
            )

        rmin = err.get("rate_min", lambda: _decimal(data, "rate_min", _("最低年利率")))
        rmax = err.get("rate_max", lambda: _decimal(data, "rate_max", _("最高年利率")))
        for field, rate, label in (
            ("rate_min", rmin, _("最低年利率")),
            ("rate_max", rmax, _("最高年利率")),
        ):
            if rate is not None and not Decimal(0) <= rate <= RATE_CEILING:
                err.add(
                    field,
                    _("%(label)s应在 0%%–36%% 之间，实际为 %(v)s%%") % {"label": label, "v": rate},
                    "out_of_range",
                )
        rates_ok = not err.has("rate_min", "rate_max")
        if rmin is not None and rmax is not None and rates_ok and rmin > rmax:
            err.add(
                "rate_max",
                _("最高年利率（%(max)s%%）不能小于最低年利率（%(min)s%%）")
                % {"max": rmax, "min": rmin},
                "out_of_range",
            )

        methods = err.get(
            "repayment_methods",
            lambda: _choices(data, "repayment_methods", _("还款方式"), RepaymentMethod.values),
        )
        if methods is not None and not methods:
            err.add("repayment_methods", _("至少选择一种还款方式"), "required")
        entity_types = err.get(
            "entity_types",
            lambda: _choices(data, "entity_types", _("适用主体类型"), EntityType.values),
        )

        inds: list[str] = []
        for code in _codes(data, "industries"):
            if not industries.is_valid(code):
                err.add(
                    "industries",
                    _("行业代码“%(c)s”不是 GB/T 4754-2017 的门类或大类") % {"c": code},
                    "invalid_industry",
                )
                break
            normal = industries.normalize(code)
            inds.append(normal if len(normal) == 1 else normal[:3])
        regs: list[str] = []
        for code in _codes(data, "regions"):
            division = divisions.get(code)
            if division is None:
                err.add("regions", _("行政区划代码“%(c)s”不存在") % {"c": code}, "invalid_region")
                break
            regs.append(division.code)

        raw_years = data.get("min_years_in_business")
        years: Decimal | None = Decimal(0)
        if raw_years is not None and str(raw_years).strip():
            years = err.get(
                "min_years_in_business",
                lambda: _decimal(data, "min_years_in_business", _("最低经营年限")),
            )
        if years is not None and not Decimal(0) <= years <= Decimal(100):
            err.add("min_years_in_business", _("最低经营年限应在 0–100 年之间"), "out_of_range")

        grade = str(data.get("min_credit_grade") or "").strip().upper()
        if grade and grade not in GRADES:
            err.add(
                "min_credit_grade",
                _("最低信用等级“%(g)s”无效，可选：%(allowed)s")
                % {"g": grade, "allowed": "、".join(GRADES)},
                "invalid_choice",
            )
        tax = err.get(
            "tax_grades", lambda: _choices(data, "tax_grades", _("纳税信用等级"), TAX_GRADES)
        )
        collateral = err.get(
            "collateral_modes",
            lambda: _choices(data, "collateral_modes", _("担保方式"), CollateralMode.values),
        )
        tags = _codes(data, "tags")
        if any(len(t) > 20 or "|" in t for t in tags) or len(tags) > 12:
            err.add("tags", _("标签最多 12 个，每个不超过 20 字，且不能含“|”"), "invalid")

        days: dict[str, int | None] = {}
        for field, label in (("days_to_accept", _("受理时限")), ("days_to_decide", _("审批时限"))):
            value = err.get(field, partial(_int, data, field, label))
            days[field] = value
            if value is not None and not 1 <= value <= 90:
                err.add(field, _("%(label)s应在 1–90 天之间") % {"label": label}, "out_of_range")

        err.raise_any()
        assert amin is not None and amax is not None and rmin is not None and rmax is not None
        assert tmin is not None and tmax is not None and years is not None
        return cls(
            product_type=ptype,
            amount_min=amin.quantize(CENT),
            amount_max=amax.quantize(CENT),
            term_min_months=tmin,
            term_max_months=tmax,
            rate_min=rmin.quantize(CENT),
            rate_max=rmax.quantize(CENT),
            repayment_methods=tuple(methods or ()),
            entity_types=tuple(entity_types or ()),
            industries=tuple(dict.fromkeys(inds)),
            regions=tuple(dict.fromkeys(regs)),
            min_years_in_business=years.quantize(Decimal("0.1")),
            min_credit_grade=grade,
            tax_grades=tuple(g for g in TAX_GRADES if g in (tax or ())),
            collateral_modes=tuple(collateral or ()),
            tags=tuple(dict.fromkeys(tags)),
            supports_relending=bool(data.get("supports_relending")),
            supports_rediscount=bool(data.get("supports_rediscount")),
            days_to_accept=int(days["days_to_accept"] or 0),
            days_to_decide=int(days["days_to_decide"] or 0),
            description=str(data.get("description") or "").strip()[:5000],
        )


DEMAND_AMOUNT_MAX = Decimal("100000000")


@dataclass(frozen=True)
class DemandIn:
    """A financing demand to publish, typed and normalised (the form and the API build it)."""

    amount: Decimal
    term_months: int
    max_rate: Decimal
    purpose_category: str
    purpose: str = ""
    urgency: str = DemandUrgency.NORMAL.value
    collateral_modes: tuple[str, ...] = ()

    def as_fields(self) -> dict[str, Any]:
        """Return the values as ``Demand`` model fields."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in self.__dict__.items()
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DemandIn:
        """Validate and normalise a demand; raise one ValidationError naming every bad field."""
        err = _Errors()
        amount = err.get("amount", partial(_decimal, data, "amount", _("融资金额")))
        if amount is not None and not Decimal("0") < amount <= DEMAND_AMOUNT_MAX:
            err.add(
                "amount",
                _("融资金额应大于 0 元且不超过 100,000,000 元，实际为 %(v)s") % {"v": amount},
                "out_of_range",
            )
        elif amount is not None and amount != amount.quantize(CENT):
            err.add("amount", _("融资金额最多保留两位小数（分）"), "invalid")
        term = err.get("term_months", partial(_int, data, "term_months", _("期限")))
        if term is not None and not 1 <= term <= 360:
            err.add(
                "term_months", _("期限应为 1–360 个月，实际为 %(v)s") % {"v": term}, "out_of_range"
            )
        rate = err.get("max_rate", partial(_decimal, data, "max_rate", _("可接受最高年利率")))
        if rate is not None and not Decimal("0") <= rate <= RATE_CEILING:
            err.add(
                "max_rate",
                _("可接受最高年利率应为 0–36（%%），实际为 %(v)s") % {"v": rate},
                "out_of_range",
            )
        elif rate is not None and rate != rate.quantize(CENT):
            err.add("max_rate", _("年利率最多保留两位小数"), "invalid")
        category = str(data.get("purpose_category") or "").strip()
        if category not in DemandPurpose.values:
            err.add(
                "purpose_category",
                _("用途类别“%(v)s”无效，可选：%(a)s")
                % {"v": category, "a": "、".join(DemandPurpose.values)},
                "invalid_choice",
            )
        purpose = str(data.get("purpose") or "").strip()
        if len(purpose) > 1000:
            err.add("purpose", _("资金用途说明不超过 1000 字"), "invalid")
        urgency = str(data.get("urgency") or DemandUrgency.NORMAL).strip()
        if urgency not in DemandUrgency.values:
            err.add(
                "urgency",
                _("紧急程度“%(v)s”无效，可选：%(a)s")
                % {"v": urgency, "a": "、".join(DemandUrgency.values)},
                "invalid_choice",
            )
        modes_label = _("可接受的担保方式")
        modes = err.get(
            "collateral_modes",
            partial(_choices, data, "collateral_modes", modes_label, CollateralMode.values),
        )
        err.raise_any()
        assert amount is not None and term is not None and rate is not None
        return cls(
            amount=amount,
            term_months=term,
            max_rate=rate,
            purpose_category=category,
            purpose=purpose,
            urgency=urgency,
            collateral_modes=tuple(modes or ()),
        )
