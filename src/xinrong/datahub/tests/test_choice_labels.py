"""Choice columns accept their Chinese labels as well as their codes, and say so in Chinese."""

import numpy as np
import pyarrow as pa
import pytest

from xinrong.datahub import columnar
from xinrong.datahub.categories import CATEGORIES, CHOICE, CHOICE_LABELS
from xinrong.datahub.rows import parse_field

CODE = "91630100MA752L1X3M"
CHOICE_FIELDS = [(spec, f) for spec in CATEGORIES.values() for f in spec.fields if f.kind == CHOICE]


def test_every_choice_column_has_a_chinese_label_for_every_code():
    assert CHOICE_FIELDS
    for spec, f in CHOICE_FIELDS:
        labels = CHOICE_LABELS[f.key]
        for code in f.choices:
            label = labels[code]
            assert label == code if f.key == "credit_grade" else label != code, (spec.code, code)


@pytest.mark.parametrize(("spec", "f"), CHOICE_FIELDS, ids=lambda x: getattr(x, "key", ""))
def test_labels_and_codes_parse_to_the_code(spec, f):
    for code, label in f.choice_labels().items():
        assert parse_field(f, label) == code
        assert parse_field(f, code) == code
        assert parse_field(f, code.upper()) == code
        assert f.display(code) == label


def test_severity_general_in_chinese_is_accepted_and_the_error_lists_the_labels():
    f = CATEGORIES["penalty"].by_key["severity"]
    assert parse_field(f, "一般") == "general"
    with pytest.raises(ValueError) as exc:
        parse_field(f, "很严重")
    assert str(exc.value) == "只能是：轻微、一般、严重"
    assert "minor" not in str(exc.value)


def test_the_column_wise_pipeline_accepts_labels_too():
    spec = CATEGORIES["penalty"]
    texts = ["一般", "严重", "轻微", "general", "很严重"]
    cells = {g.key: [g.example or "x"] * len(texts) for g in spec.fields if g.required}
    cells["uscc"] = [CODE] * len(texts)
    cells["severity"] = texts
    n = len(texts)
    chunk = columnar.Chunk(
        np.arange(2, n + 2), {k: pa.array(v, pa.string()) for k, v in cells.items()}
    )
    checked = columnar.check_chunk(spec, chunk, lambda codes: {c: 1 for c in codes})
    assert checked.values["severity"].to_pylist()[:4] == ["general", "serious", "minor", "general"]
    assert [e[3] for e in checked.errors] == ["只能是：轻微、一般、严重"]


def test_booleans_read_as_yes_or_no():
    f = CATEGORIES["judicial"].by_key["dishonest"]
    assert (f.display("True"), f.display("False"), f.display(True)) == ("是", "否", "是")
