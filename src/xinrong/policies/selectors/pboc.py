"""Reads of the PBoC column: quotas and use, inclusive-loan shares by month, PBoC documents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import QuerySet, Sum

from xinrong.accounts.permissions import can, is_institution, require
from xinrong.marketplace.choices import CollateralMode, ProductType
from xinrong.marketplace.models import Loan
from xinrong.policies.choices import DocumentStatus
from xinrong.policies.models import PbocQuota, PolicyDocument


def quotas_visible(*, user: Any) -> QuerySet[PbocQuota]:
    """Quotas with their use: an institution its own, government and operator all."""
    if not can(user, "policies.pboc_quota_view"):
        return PbocQuota.objects.none()
    qs = PbocQuota.objects.select_related("institution").annotate(used=Sum("uses__amount"))
    if is_institution.test(user):
        qs = qs.filter(institution_id=user.organisation_id)
    return qs.order_by("-year", "institution__name", "tool")


def pboc_documents() -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.filter(is_pboc=True, status=DocumentStatus.PUBLISHED).order_by(
        "-issued_on", "-id"
    )


def inclusive_shares(*, user: Any, since: dt.date) -> pd.DataFrame:
    """Each institution's platform loans by month since ``since``: counts, credit loans (no
    collateral or guarantee: a 信用贷款 product or one whose only mode is 纯信用) and first loans,
    with their shares in % (one vectorised pass). An institution sees only itself."""
    require(user, "policies.pboc_view")
    qs = Loan.objects.filter(disbursed_on__gte=since)
    if is_institution.test(user):
        qs = qs.filter(institution_id=user.organisation_id)
    elif not can(user, "policies.pboc_quota_view"):
        return pd.DataFrame()
    rows = list(
        qs.values_list(
            "institution__name",
            "disbursed_on",
            "principal",
            "first_loan",
            "application__product_version__product_type",
            "application__product_version__collateral_modes",
        )
    )
    cols = ["institution", "day", "principal", "first", "ptype", "modes"]
    f = pd.DataFrame.from_records(rows, columns=cols)
    if f.empty:
        return f
    only_none = f["modes"].map(lambda m: list(m or []) == [CollateralMode.NONE]).to_numpy()
    f["credit"] = (f["ptype"].to_numpy() == ProductType.CREDIT) | only_none
    f["month"] = pd.to_datetime(f["day"]).dt.strftime("%Y-%m")
    f["amount"] = f["principal"].map(Decimal)
    g = f.groupby(["institution", "month"], as_index=False).agg(
        loans=("first", "size"),
        credit=("credit", "sum"),
        first=("first", "sum"),
        amount=("amount", "sum"),
    )
    g["credit_share"] = np.round(g["credit"] / g["loans"] * 100, 1)
    g["first_share"] = np.round(g["first"] / g["loans"] * 100, 1)
    return g.sort_values(["month", "institution"]).reset_index(drop=True)
