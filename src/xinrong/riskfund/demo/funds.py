"""Demo funds: Qinghai's provincial fund (since 2021, ¥100 m a year) and 格尔木's city fund
(since 2023, ¥10 m a year), each with its first rule set (Qinghai's defaults) and its yearly
injections posted through the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.utils import timezone

from xinrong.accounts.models import Organisation
from xinrong.riskfund.models import Fund, RuleSet
from xinrong.riskfund.services import ledger

TZ = timezone.get_default_timezone()

FUNDS: tuple[dict[str, Any], ...] = (
    {
        "code": "qinghai",
        "name": "青海省小微企业信用贷款风险补偿基金",
        "level": "province",
        "division_code": "63",
        "office": "青海省小微企业信用融资服务中心",
        "yearly": Decimal("100000000.00"),
        "opened_on": dt.date(2021, 1, 1),
        "description": (
            "“十四五”期间每年注资 1 亿元；平台信用贷款和首贷的损失由政府和银行按 3:7 分担，"
            "先补后追。"
        ),
        "institution_year_cap": Decimal("20000000.00"),
        "rules_note": (
            "青海省现行规则：小微企业（不含个体工商户）的平台信用贷款和首贷，"
            "单笔不超过 500 万元，政府与银行 3:7 分担。"
        ),
        "voucher": "青财金",
        "voucher_no": 8,
    },
    {
        "code": "golmud",
        "name": "格尔木市小微企业信用贷款风险补偿基金",
        "level": "city",
        "division_code": "632801",
        "office": "格尔木子站",
        "yearly": Decimal("10000000.00"),
        "opened_on": dt.date(2023, 1, 1),
        "description": "格尔木子站运营；覆盖格尔木市辖区内的平台贷款。",
        "institution_year_cap": Decimal("3000000.00"),
        "rules_note": (
            "格尔木市设立时沿用全省规则：小微企业的平台信用贷款和首贷，"
            "单笔不超过 500 万元，3:7 分担。"
        ),
        "voucher": "格财金",
        "voucher_no": 3,
    },
)


DEMO_LINE = Decimal("30.00")


def _breaker_line(fund: Fund) -> Decimal:
    """The demo's breaker line: 30%, or the next 5 points above the demo bank's own ratio plus 5
    when the seeded loan book puts it near or over 30% (the book's ratios move with the day the
    demo is seeded), so that the ``loan_officer`` login can see its claim paid; lenders above
    the line still show the breaker."""
    from xinrong.accounts.models import User
    from xinrong.riskfund.breaker import npl_ratios

    officer = User.objects.filter(username="loan_officer").first()
    if officer is None or officer.organisation_id is None:
        return DEMO_LINE
    own = npl_ratios(fund, [officer.organisation_id]).get(officer.organisation_id)
    if own is None or own.ratio < DEMO_LINE - 5:
        return DEMO_LINE
    return (own.ratio / 5).to_integral_value(ROUND_CEILING) * 5 + 5


def seed_funds(*, today: dt.date | None = None) -> dict[str, Fund]:
    """Create the demo funds, their first rule sets and yearly injections (idempotent)."""
    today = today or timezone.localdate()
    finance = Organisation.objects.get(name="青海省财政厅")
    out: dict[str, Fund] = {}
    for spec in FUNDS:
        fund = Fund.objects.filter(code=spec["code"]).first()
        if fund is not None:
            out[spec["code"]] = fund
            continue
        fund = Fund.objects.create(
            code=spec["code"],
            name=spec["name"],
            level=spec["level"],
            division_code=spec["division_code"],
            manager=finance,
            office=Organisation.objects.get(name=spec["office"]),
            yearly_injection=spec["yearly"],
            opened_on=spec["opened_on"],
            description=spec["description"],
        )
        RuleSet.objects.create(
            fund=fund,
            version=1,
            effective_from=spec["opened_on"],
            institution_year_cap=spec["institution_year_cap"],
            breaker_threshold=_breaker_line(fund),
            note=spec["rules_note"],
            created_at=dt.datetime.combine(spec["opened_on"], dt.time(9), tzinfo=TZ),
        )
        for year in range(spec["opened_on"].year, today.year + 1):
            day = dt.date(year, 1, 15)
            if day > today:
                break
            ledger.injection_post(
                fund=fund,
                amount=spec["yearly"],
                actor=None,
                value_date=day,
                voucher_no=f"{spec['voucher']}〔{year}〕{spec['voucher_no']}号",
                memo=f"{year} 年度财政注资",
                now=dt.datetime.combine(day, dt.time(10), tzinfo=TZ),
            )
        out[spec["code"]] = fund
    return out
