import pytest

from xinrong.datahub.categories import CATEGORIES, FACT_COLUMNS
from xinrong.datahub.rows import validate_row


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_every_template_example_row_is_valid(code):
    spec = CATEGORIES[code]
    row = validate_row(spec, 2, {f.key: f.example for f in spec.all_fields})
    assert row.errors == []


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_fields_fill_known_columns_once(code):
    columns = [f.column for f in CATEGORIES[code].fields if f.column]
    assert set(columns) <= FACT_COLUMNS
    assert len(columns) == len(set(columns))
