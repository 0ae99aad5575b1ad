"""The column-wise pipeline agrees cell by cell with the one written-down rule per field."""

import datetime as dt
import io
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinrong.datahub import columnar
from xinrong.datahub.categories import CATEGORIES, CategorySpec, FieldSpec
from xinrong.datahub.rows import parse_field

TAX = CATEGORIES["tax"]
CODE = "91630100MA752L1X3M"


def _kinds() -> dict[str, tuple[CategorySpec, FieldSpec]]:
    found: dict[str, tuple[CategorySpec, FieldSpec]] = {}
    for spec in CATEGORIES.values():
        for f in spec.fields:
            found.setdefault(f.kind, (spec, f))
    return found


KINDS = _kinds()

# Texts near each rule's edges: fast-path shapes, formats only the scalar rule knows, and junk.
cell_text = st.one_of(
    st.from_regex(r"[0-9]{1,16}(\.[0-9]{0,4})?", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}(,[0-9]{3}){1,3}(\.[0-9]{2})?", fullmatch=True),
    st.from_regex(r"(19|20|21)[0-9]{2}-[0-9]{2}(-[0-9]{2})?", fullmatch=True),
    st.from_regex(r"20[0-9]{2}年[0-9]{1,2}月([0-9]{1,2}日)?", fullmatch=True),
    st.from_regex(r"20[0-9]{2}[/.][0-9]{1,2}[/.][0-9]{1,2}", fullmatch=True),
    st.sampled_from(
        ["A", "a", "B", "M", "D", "Z", "是", "否", "Yes", "no", "TRUE", "0", "1", "-1", "1e3"]
    ),
    st.sampled_from(["minor", "General", "SERIOUS", "executed", "plaintiff", "electricity"]),
    st.text(min_size=1, max_size=30).map(str.strip).filter(bool),
)


def _check(spec: CategorySpec, cells: dict[str, list[str]]) -> columnar.Checked:
    n = len(next(iter(cells.values())))
    chunk = columnar.Chunk(
        np.arange(2, n + 2), {k: pa.array(v, pa.string()) for k, v in cells.items()}
    )
    return columnar.check_chunk(spec, chunk, lambda codes: {c: 1 for c in codes if c == CODE})


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=60, deadline=None)
@given(texts=st.lists(cell_text, min_size=1, max_size=12))
def test_vectorised_rules_agree_with_parse_field(kind, texts):
    spec, f = KINDS[kind]
    cells = {g.key: [g.example or "x"] * len(texts) for g in spec.fields if g.required}
    cells["uscc"] = [CODE] * len(texts)
    cells[f.key] = texts
    checked = _check(spec, cells)
    errors = {(row, header): rule for row, header, _v, rule in checked.errors}
    got = checked.values[f.key].to_pylist()
    for i, text in enumerate(texts):
        try:
            expected = columnar.canonical(parse_field(f, text))
        except ValueError as exc:
            assert errors.get((i + 2, str(f.header))) == str(exc)
            assert not checked.ok[i]
            continue
        assert got[i] == expected, (text, got[i], expected)
        assert (i + 2, str(f.header)) not in errors


def test_uscc_errors_name_the_rule_and_unknown_valid_codes_wait():
    checked = _check(
        TAX,
        {
            "uscc": [CODE, CODE.lower(), "91630100MA752L1X3X", "", "916301007"],
            "name": ["", "", "", "", ""],
            "period": ["2024-01"] * 5,
            "tax_paid": ["1"] * 5,
            "credit_grade": ["A"] * 5,
        },
    )
    assert checked.ok.tolist() == [True, True, False, False, False]
    assert checked.entity_ids.tolist()[:2] == [1, 1]
    assert checked.values["uscc"].to_pylist()[:2] == [CODE, CODE]
    rules = {row: rule for row, _h, _v, rule in checked.errors}
    assert "校验位错误" in rules[4]
    assert "至少填写一项" in rules[5]
    assert "18" in rules[6]
    # a valid code of an entity not registered yet is no error: the row waits for resolution
    waiting = _check(TAX, {"uscc": ["91630100MA752L1X3M"[:-1] + "M"], "period": ["2024"]})
    assert waiting.entity_ids.tolist() == [1]


def test_hash_is_stable_across_releases():
    # Stored hashes recognise deliveries made by earlier releases: this value must never change.
    assert columnar.row_hash("tax", {"uscc": CODE, "period": "2024-01", "tax_paid": "1.00"}) == (
        columnar.row_hash("tax", {"tax_paid": "1.00", "uscc": CODE, "period": "2024-01"})
    )
    assert columnar.hash64(pa.array(["", "a", "tax\x1fperiod=2024-01"])).tolist() == [
        398705194823567216,
        7419249698574701246,
        -6945386068770838552,
    ]
    # a text hashes the same whatever texts are hashed beside it
    assert columnar.hash64(pa.array(["a"])).tolist() == [7419249698574701246]
    # a trailing NUL byte is not lost in the 8-byte padding
    assert len(set(columnar.hash64(pa.array(["abcdefgh", "abcdefgh\x00"])).tolist())) == 2


def test_row_hash_matches_the_column_wise_hash_and_separates_rows():
    rows = [
        {"uscc": CODE, "period": "2024-01", "tax_paid": "1.00"},
        {"uscc": CODE, "period": "2024-01", "tax_paid": "1.00", "name": "甲"},
        {"uscc": CODE, "period": "2024-02", "tax_paid": "1.00"},
        {"uscc": CODE, "period": "2024-01", "tax_paid": "10.0"},
    ]
    keys = sorted({k for r in rows for k in r})
    cols = {k: pa.array([r.get(k) for r in rows], pa.string()) for k in keys}
    vectorised = columnar.hash64(columnar.canonical_rows("tax", cols)).tolist()
    assert vectorised == [columnar.row_hash("tax", r) for r in rows]
    assert len(set(vectorised)) == 4
    assert columnar.row_hash("penalty", rows[0]) != vectorised[0]


def test_rows_without_any_value_keep_their_place():
    cols = {"a": pa.array([None, "x", None], pa.string()), "b": pa.array([None] * 3, pa.string())}
    assert columnar.canonical_rows("c", cols).to_pylist() == ["c", "c\x1fa=x", "c"]
    assert columnar.json_objects(cols, ["a", "b"]).to_pylist() == ["{}", '{"a": "x"}', "{}"]


@settings(deadline=None)  # timing is for benchmarks; a loaded CI machine must not fail it
@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), min_size=1, max_size=8))
def test_json_objects_round_trip(texts):
    cols = {"a": pa.array(texts, pa.string()), "b": pa.array(['引号"与\\反斜杠'] * len(texts))}
    for text, obj in zip(texts, columnar.json_objects(cols, ["a", "b"]).to_pylist(), strict=True):
        expected = {"b": '引号"与\\反斜杠'} | ({"a": text} if text is not None else {})
        assert json.loads(obj) == expected


def test_add_years_keeps_the_day_and_turns_29_february_into_28():
    days = np.array(["2024-02-29", "2023-03-31", "2020-12-31", "2019-01-01"], "datetime64[D]")
    assert columnar.add_years(days, 5).astype(str).tolist() == [
        "2029-02-28",
        "2028-03-31",
        "2025-12-31",
        "2024-01-01",
    ]
    assert columnar.add_years(np.array(["2024-02-29"], "datetime64[D]"), 4).astype(
        str
    ).tolist() == ["2028-02-29"]


def test_retention_runs_five_years_from_the_end_of_the_behaviour():
    penalty = CATEGORIES["penalty"]
    n = 3
    values = {f.key: pa.array([None] * n, pa.string()) for f in penalty.all_fields}
    for f in penalty.fields:
        if f.column == "occurred_on":
            values[f.key] = pa.array(["2021-06-30", "2021-06-30", "2020-02-29"])
        if f.column == "behaviour_end":
            values[f.key] = pa.array([None, "2022-01-15", None], pa.string())
    cols = columnar.fact_columns(penalty, values)
    assert cols["negative"].to_pylist() == [True] * 3
    assert cols["retention_until"].to_pylist() == ["2026-06-30", "2027-01-15", "2025-02-28"]
    tax = {f.key: pa.array([None, None], pa.string()) for f in TAX.all_fields}
    tax["period"] = pa.array(["2024-02", "2023"])
    tax["arrears"] = pa.array(["10.00", "0.00"])
    cols = columnar.fact_columns(TAX, tax)
    assert cols["negative"].to_pylist() == [True, False]
    assert cols["retention_until"].to_pylist() == ["2029-02-28", None]


def _read(text: str, encoding: str = "utf-8", size: int = 100) -> list[tuple[int, dict]]:
    out = []
    for chunk in columnar.read_chunks(TAX, io.BytesIO(text.encode(encoding)), "t.csv", size):
        for i, number in enumerate(chunk.numbers.tolist()):
            out.append((number, {k: v[i].as_py() for k, v in chunk.cells.items()}))
    return out


def test_csv_rows_keep_their_numbers_through_blank_ragged_and_multiline_rows():
    text = (
        "统一社会信用代码,主体名称,所属期,实缴税额（元）,纳税信用等级\n"
        f"{CODE},,2024-01,1,A\n"
        "\n"
        f"{CODE},,2024-02,2\n"  # one cell short: the rest is empty, as csv.reader pads
        f'{CODE}," 多行\n名称 ",2024-03,3,B\n'
        f"{CODE},,2024-04,4,C,extra\n"
        ",,,,\n"
        f" {CODE} ,,2024-05,5,D\n"
    )
    rows = dict(_read(text, size=2))
    assert sorted(rows) == [2, 4, 5, 6, 8]
    assert rows[4]["credit_grade"] == "" and rows[4]["tax_paid"] == "2"
    assert rows[5]["name"] == "多行\n名称"
    assert rows[6]["credit_grade"] == "C"
    assert rows[8]["uscc"] == CODE


def test_gbk_csv_is_read():
    text = (
        "统一社会信用代码,主体名称,所属期,实缴税额（元）,纳税信用等级\n"
        f"{CODE},青海甲公司,2024-01,1,A\n"
    )
    assert _read(text, "gb18030") == [
        (
            2,
            {
                "uscc": CODE,
                "name": "青海甲公司",
                "period": "2024-01",
                "tax_paid": "1",
                "credit_grade": "A",
            },
        )
    ]


def test_dates_out_of_range_or_impossible_fall_to_the_written_rule():
    f = next(f for s in CATEGORIES.values() for f in s.fields if f.kind == "date")
    spec = next(s for s in CATEGORIES.values() if f in s.fields)
    far = (dt.date.today() + dt.timedelta(days=4000)).isoformat()
    texts = ["2023-02-30", "1900-01-01", far, "2023-02-28"]
    cells = {g.key: [g.example or "x"] * 4 for g in spec.fields if g.required}
    cells["uscc"] = [CODE] * 4
    cells[f.key] = texts
    checked = _check(spec, cells)
    assert checked.values[f.key].to_pylist()[3] == "2023-02-28"
    assert [r for r, h, _v, _r in checked.errors if h == str(f.header)] == [2, 3, 4]


@pytest.mark.parametrize("cut", range(1, 4))
def test_utf8_file_whose_sample_ends_inside_a_character_is_still_utf8(cut):
    from xinrong.datahub.rows import csv_encoding

    header = "统一社会信用代码,主体名称,所属期,实缴税额（元）,纳税信用等级\n".encode()
    filler = b"x" * (100 - len(header) % 100)
    body = f"{CODE},青海甲公司,2024-01,1,A\n".encode()
    data = header + filler + body
    # cut the sample inside the three-byte "青"
    cut_at = data.index("青".encode()) + cut
    assert csv_encoding(io.BytesIO(data), sample=cut_at) == "utf-8"
    assert csv_encoding(io.BytesIO("甲公司".encode("gb18030")), sample=64) == "gb18030"
