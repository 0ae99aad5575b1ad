"""Fields departments often lack: accepted empty, stored as unknown (NULL, not 0), and counted
on the data-quality page."""

import io
import random
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.crossval import conflicts_detect
from xinrong.datahub.models import Fact
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

# (category, field key) of the fields a department may leave empty, meaning "unknown"
OFTEN_LACKING = [
    ("utility", "billed"),
    ("utility", "months_in_arrears"),
    ("procurement", "amount"),
    ("tax", "arrears"),
    ("social_security", "arrears"),
    ("housing_fund", "arrears"),
]
UNKNOWN_NOTE = "可不填；不填表示未知，不按0计算"


@pytest.fixture
def dept(make_user):
    provider = make_user("government", ["data_provider"])
    source = source_create(
        code="bureau",
        name="县发展和改革局",
        organisation=provider.organisation,
        categories=["utility", "procurement", "tax", "social_security", "housing_fund"],
    )
    source.provider = provider
    return source


def deliver(source, category, header, rows):
    text = "\n".join([header, *rows]) + "\n"
    return batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}.csv",
        channel="cli",
    )


def test_utility_and_procurement_rows_without_amounts_are_accepted_as_unknown(dept):
    e = MarketEntityFactory()
    # a file without the bill column at all, and one with the cell empty, 0 or a figure
    no_column = deliver(
        dept, "utility", "统一社会信用代码,类别,所属期", [f"{e.uscc},water,2025-01"]
    )
    cells = deliver(
        dept,
        "utility",
        "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数",
        [f"{e.uscc},electricity,2025-02,,", f"{e.uscc},gas,2025-02,0,0"],
    )
    contract = deliver(
        dept, "procurement", "统一社会信用代码,合同编号,签订日期", [f"{e.uscc},HT-1,2025-03-01"]
    )
    assert [b.rejected for b in (no_column, cells, contract)] == [0, 0, 0]
    stored = {f.status or f.category: f for f in Fact.objects.filter(entity=e)}
    assert stored["water"].amount is None and stored["water"].arrears is None
    assert stored["electricity"].amount is None and stored["electricity"].arrears is None
    assert (stored["gas"].amount, stored["gas"].arrears) == (Decimal("0"), Decimal("0"))
    assert stored["procurement"].amount is None
    # an unknown bill is no arrears: not negative information
    assert not stored["electricity"].negative
    assert "billed" not in stored["electricity"].values()


def test_json_rows_with_null_amounts_are_stored_as_unknown(client, dept):
    from xinrong.accounts.services.api_keys import api_key_create

    _key, raw = api_key_create(
        organisation=dept.provider.organisation, name="报送", actor=dept.provider
    )
    e = MarketEntityFactory()
    rows = [{"uscc": e.uscc, "utility": "water", "period": "2025-05", "billed": None}]
    response = client.post(
        "/api/v1/datahub/batches",
        {"source": "bureau", "category": "utility", "rows": rows},
        content_type="application/json",
        HTTP_X_API_KEY=raw,
    )
    assert response.status_code == 201 and response.json()["accepted"] == 1
    assert Fact.objects.get(entity=e).amount is None


@pytest.mark.parametrize(("category", "key"), OFTEN_LACKING)
def test_the_template_says_the_field_may_be_left_empty_and_is_then_unknown(
    client, dept, category, key
):
    client.force_login(dept.provider)
    response = client.get(reverse("datahub:template", args=[category]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header = CATEGORIES[category].by_key[key].header
    sheet, notes = book.worksheets
    assert header in [c.value for c in sheet[1]]  # no "*": not required
    assert header + "*" not in [c.value for c in sheet[1]]
    row = next(r for r in notes.iter_rows(values_only=True) if r[0] == header)
    assert row[1] == "否" and row[3] == UNKNOWN_NOTE


def _page_rows(page: str) -> dict[tuple[str, str, str], tuple[int, int, str]]:
    """(source, category, field) → (rows, missing, share text) from the missing-values table."""
    table = page[page.index('id="missing-table"') :]
    table = table[: table.index("</table>")]
    out: dict[tuple[str, str, str], tuple[int, int, str]] = {}
    for m in re.finditer(
        r'data-source="([^"]+)" data-category="([^"]+)" data-field="([^"]+)">(.*?)</tr>',
        table,
        re.S,
    ):
        cells = dict(re.findall(r'data-stat="([^"]+)">([^<]*)<', m.group(4)))
        out[(m.group(1), m.group(2), m.group(3))] = (
            int(cells["rows"]),
            int(cells["missing"]),
            cells["missing-pct"],
        )
    return out


def test_quality_page_counts_empty_fields_as_an_independent_count_does(
    client, dept, tax_source, operator
):
    rng = random.Random(13)
    entities = [MarketEntityFactory() for _ in range(6)]
    delivered = []  # (billed, months in arrears) as written in the file
    for e in entities:
        for month in range(1, 8):
            billed = rng.choice(["", "0", "812.50"])
            months = rng.choice(["", "0", "2"])
            delivered.append(f"{e.uscc},electricity,2025-{month:02d},{billed},{months}")
    deliver(dept, "utility", "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数", delivered)
    tax_rows = [f"{e.uscc},2025,1000,{rng.choice(['', '0', '30'])}" for e in entities]
    deliver(dept, "tax", "统一社会信用代码,所属期,实缴税额（元）,欠税金额（元）", tax_rows)
    # another department's source: not on this department's page
    deliver(
        tax_source,
        "utility",
        "统一社会信用代码,类别,所属期,应缴金额（元）",
        [f"{entities[0].uscc},water,2025-01,"],
    )

    def empty(rows: list[str], column: int) -> int:
        return sum(1 for r in rows if r.split(",")[column] == "")

    n = len(delivered)
    expected = {
        ("bureau", "utility", "billed"): (n, empty(delivered, 3)),
        ("bureau", "utility", "months_in_arrears"): (n, empty(delivered, 4)),
        ("bureau", "utility", "consumption"): (n, n),  # the file had no such column
        ("bureau", "tax", "arrears"): (6, empty(tax_rows, 3)),
        ("bureau", "tax", "credit_grade"): (6, 6),
        ("bureau", "tax", "employees"): (6, 6),
    }
    assert 0 < expected[("bureau", "utility", "billed")][1] < n  # the draw has both kinds

    client.force_login(dept.provider)
    page = client.get(reverse("datahub:quality")).content.decode()
    assert "不按0计算" in page and "None" not in page
    shown = _page_rows(page)
    assert {k: v[:2] for k, v in shown.items()} == expected
    rows, missing, share = shown[("bureau", "utility", "billed")]
    assert share == f"{100 * missing / rows:.1f}%"

    client.force_login(operator)  # the platform's operator sees both departments
    shown = _page_rows(client.get(reverse("datahub:quality")).content.decode())
    assert shown[("tax", "utility", "billed")][:2] == (1, 1)
    assert shown[("bureau", "utility", "billed")][:2] == expected[("bureau", "utility", "billed")]


def test_cross_validation_copes_with_unknown_bills_of_a_deregistered_entity(dept):
    from xinrong.datahub.models import Conflict

    e = MarketEntityFactory(registration_status="cancelled")
    header = "统一社会信用代码,类别,所属期,应缴金额（元）"
    deliver(dept, "utility", header, [f"{e.uscc},water,2025-01,", f"{e.uscc},water,2025-02,"])
    conflicts_detect([e.pk])
    assert not Conflict.objects.filter(entity=e).exists()  # an unknown bill is no evidence
    deliver(dept, "utility", header, [f"{e.uscc},water,2025-03,90"])
    conflicts_detect([e.pk])
    assert Conflict.objects.get(entity=e).rule == "deregistered_billed"
