import numpy as np
import pyarrow as pa
import pytest

from xinrong.datahub.categories import CATEGORIES, FACT_COLUMNS
from xinrong.datahub.columnar import Chunk, check_chunk


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_every_template_example_row_is_valid(code):
    spec = CATEGORIES[code]
    chunk = Chunk(np.array([2]), {f.key: pa.array([f.example]) for f in spec.all_fields})
    checked = check_chunk(spec, chunk, lambda codes: {})
    assert checked.errors == []
    assert checked.ok.tolist() == [True]


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_fields_fill_known_columns_once(code):
    columns = [f.column for f in CATEGORIES[code].fields if f.column]
    assert set(columns) <= FACT_COLUMNS
    assert len(columns) == len(set(columns))
