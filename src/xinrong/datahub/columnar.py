"""Column-wise ingestion: read a delivered file in chunks of columns, validate, hash, shape facts.

The pipeline (``datahub.services.ingest``) does not walk rows in Python on its main path. Each
field of a chunk is one Arrow string array, and each rule runs over the whole array. Some cells a
vectorised rule cannot settle: thousand separators, Chinese date formats, odd capitalisation,
and every invalid cell. Those fall back to ``rows.parse_field`` one by one, so both paths accept,
normalise and reject exactly the same text with the same message.

A value's *canonical text* is what ``str()`` gives for its typed value (``isoformat`` for dates):
"1200.00", "2024-03", "True". Row hashes, the fact's raw ``data`` and the typed columns are all
built from it, so a row hashes the same whichever path validated it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.datahub import row_rules
from xinrong.datahub import rows as row_io
from xinrong.datahub.categories import (
    BOOL,
    CHOICE,
    DATE,
    DECIMAL,
    INT,
    PERIOD,
    CategorySpec,
    FieldSpec,
)
from xinrong.reference import divisions
from xinrong.reference.errors import ReferenceDataError

CHUNK_ROWS = 100_000  # rows read, validated and written together
CSV_BLOCK = 4 << 20  # bytes of CSV parsed at a time (about 60,000 short rows)

_DECIMAL_FAST = r"^[0-9]{1,14}(\.[0-9]{1,2})?$"
_INT_FAST = r"^[0-9]{1,9}$"
_DATE_FAST = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_PERIOD_FAST = r"^[0-9]{4}(-[0-9]{2})?$"
_USCC_FAST = r"^[0-9A-Z]{18}$"
_CONTROL = r"[\x00-\x1f]"


@dataclass
class Chunk:
    """Rows of a file as columns: one trimmed text array per mapped field ("" when empty)."""

    numbers: np.ndarray  # row numbers in the file; the header is row 1
    cells: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(self.numbers)

    def column(self, key: str) -> pa.Array:
        """Return the cells of a field; a field the file lacks is all empty."""
        arr = self.cells.get(key)
        return arr if arr is not None else pa.array([""] * len(self), pa.string())


@dataclass
class Checked:
    """A validated chunk: canonical text per field (null when empty or invalid) and the errors."""

    numbers: np.ndarray
    values: dict[str, pa.Array]
    ok: np.ndarray  # per row: no rule broken
    entity_ids: np.ndarray  # per row: the registered entity of its USCC, else -1
    errors: list[tuple[int, str, str, str]]  # (row number, column header, value, rule)


# ---------------------------------------------------------------- reading


def read_chunks(
    spec: CategorySpec, fileobj: IO[bytes], filename: str, size: int | None = None
) -> Iterator[Chunk]:
    """Yield the file's non-empty rows as column chunks; raise FileFormatError for bad files.

    The chunk size is ``settings.XINRONG_INGEST_CHUNK_ROWS`` (default 100,000) unless given.
    """
    size = size or int(getattr(settings, "XINRONG_INGEST_CHUNK_ROWS", CHUNK_ROWS))
    name = filename.lower()
    if name.endswith(".xlsx"):
        yield from _chunks_from_rows(spec, row_io.iter_table(fileobj, filename), size)
        return
    if not (name.endswith((".csv", ".txt")) or not name):
        raise row_io.FileFormatError(_("只接受 .xlsx 或 .csv 文件"))
    fileobj.seek(0)
    table = row_io.iter_table(fileobj, filename)
    try:
        headers = next(table)
    except StopIteration:
        raise row_io.FileFormatError(_("文件是空的")) from None
    table.close()
    mapping = row_io.header_map(spec, headers)
    fileobj.seek(0)
    yield from _csv_chunks(mapping, len(headers), fileobj, size)


def _trimmed(values: list[str]) -> pa.Array:
    return pc.utf8_trim_whitespace(pa.array(values, pa.string()))


def _chunk(numbers: list[int] | np.ndarray, cells: dict[str, pa.Array]) -> Chunk | None:
    """Drop rows whose mapped cells are all empty; None when nothing is left."""
    nums = np.asarray(numbers, dtype=np.int64)
    if not len(nums):
        return None
    filled = np.zeros(len(nums), dtype=bool)
    for arr in cells.values():
        filled |= pc.not_equal(arr, "").to_numpy(zero_copy_only=False)
    if filled.all():
        return Chunk(nums, cells)
    if not filled.any():
        return None
    keep = pa.array(filled)
    return Chunk(nums[filled], {k: pc.filter(v, keep) for k, v in cells.items()})


def _chunks_from_rows(spec: CategorySpec, table: Iterator[list[str]], size: int) -> Iterator[Chunk]:
    """Turn rows of cells (XLSX, or CSV rows Arrow could not split) into column chunks."""
    try:
        headers = next(table)
    except StopIteration:
        raise row_io.FileFormatError(_("文件是空的")) from None
    mapping = row_io.header_map(spec, headers)
    yield from _rows_to_chunks(mapping, enumerate(table, start=2), size)


def _rows_to_chunks(
    mapping: dict[int, FieldSpec], numbered: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[Chunk]:
    while True:
        numbers: list[int] = []
        cols: dict[str, list[str]] = {f.key: [] for f in mapping.values()}
        for number, cells in numbered:
            numbers.append(number)
            for i, f in mapping.items():
                cols[f.key].append(cells[i] if i < len(cells) else "")
            if len(numbers) >= size:
                break
        if not numbers:
            return
        chunk = _chunk(numbers, {k: _trimmed(v) for k, v in cols.items()})
        if chunk is not None:
            yield chunk
        if len(numbers) < size:
            return


def _csv_chunks(
    mapping: dict[int, FieldSpec], width: int, fileobj: IO[bytes], size: int
) -> Iterator[Chunk]:
    """Parse CSV with Arrow; rows of the wrong width are re-read like csv.reader would."""
    encoding = "utf8" if row_io.csv_encoding(fileobj) == "utf-8" else "gb18030"
    names = [f"c{i}" for i in range(width)]
    wanted = {f"c{i}": f.key for i, f in mapping.items()}
    ragged: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        ragged.append((row.number, row.text))
        return "skip"

    try:
        reader = pa_csv.open_csv(
            fileobj,
            read_options=pa_csv.ReadOptions(
                use_threads=False,  # keeps row numbers known for rows of the wrong width
                block_size=CSV_BLOCK,
                skip_rows=1,
                column_names=names,
                encoding=encoding,
            ),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                include_columns=list(wanted),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise row_io.FileFormatError(_("无法读取 CSV 文件：%(e)s") % {"e": exc}) from exc
    next_number = 2
    try:
        for batch in reader:
            k = batch.num_rows
            skipped = np.array([n for n, _t in ragged if n >= next_number], dtype=np.int64)
            candidates = np.arange(next_number, next_number + k + len(skipped), dtype=np.int64)
            numbers = np.setdiff1d(candidates, skipped, assume_unique=True)[:k]
            if k:
                next_number = int(numbers[-1]) + 1
            cells = {wanted[name]: pc.utf8_trim_whitespace(batch.column(name)) for name in wanted}
            for piece in _split(numbers, cells, size):
                chunk = _chunk(*piece)
                if chunk is not None:
                    yield chunk
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise row_io.FileFormatError(_("无法读取 CSV 文件：%(e)s") % {"e": exc}) from exc
    if ragged:  # csv.reader semantics: missing cells are empty, extra cells ignored
        rows = ((n, next(csv.reader([text]), [])) for n, text in ragged)
        yield from _rows_to_chunks(mapping, ((n, [c.strip() for c in r]) for n, r in rows), size)


def _split(
    numbers: np.ndarray, cells: dict[str, pa.Array], size: int
) -> Iterator[tuple[np.ndarray, dict[str, pa.Array]]]:
    for start in range(0, len(numbers), size):
        yield (
            numbers[start : start + size],
            {k: v.slice(start, size) for k, v in cells.items()},
        )


# ---------------------------------------------------------------- validation


def canonical(value: Any) -> str:
    """Return the canonical text of a typed value."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Return a boolean Arrow result as a NumPy mask, null counting as False."""
    mask: np.ndarray = pc.fill_null(arr, False).to_numpy(zero_copy_only=False)
    return mask


def _where(mask: np.ndarray, arr: pa.Array, filler: str) -> pa.Array:
    return pc.if_else(pa.array(mask), arr, filler)


def _fast(f: FieldSpec, arr: pa.Array, nonempty: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Return (canonical text where a vectorised rule settles the cell, else null; that mask)."""
    null = pa.scalar(None, pa.string())
    if f.kind == DECIMAL:
        fast = nonempty & _mask(pc.match_substring_regex(arr, _DECIMAL_FAST))
        text = pc.cast(pc.cast(_where(fast, arr, "0"), pa.decimal128(16, 2)), pa.string())
    elif f.kind == INT:
        fast = nonempty & _mask(pc.match_substring_regex(arr, _INT_FAST))
        text = pc.cast(pc.cast(_where(fast, arr, "0"), pa.int64()), pa.string())
    elif f.kind == DATE:
        shaped = nonempty & _mask(pc.match_substring_regex(arr, _DATE_FAST))
        parsed = pc.strptime(
            _where(shaped, arr, "2000-01-01"), format="%Y-%m-%d", unit="s", error_is_null=True
        )
        day = pc.cast(parsed, pa.date32())
        lowest, highest = dt.date(1949, 10, 1), dt.date.today() + dt.timedelta(days=3660)
        if f.past_only:  # later dates go to parse_field, which says the rule
            highest = timezone.localdate()
        fast = (
            shaped
            & _mask(pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), arr))
            & _mask(pc.greater_equal(day, pa.scalar(lowest, pa.date32())))
            & _mask(pc.less_equal(day, pa.scalar(highest, pa.date32())))
        )
        text = arr
    elif f.kind == PERIOD:
        shaped = nonempty & _mask(pc.match_substring_regex(arr, _PERIOD_FAST))
        safe = _where(shaped, arr, "2000-01")
        year = pc.cast(pc.utf8_slice_codeunits(safe, 0, 4), pa.int32()).to_numpy()
        month_text = pc.utf8_slice_codeunits(safe, 5, 7)
        month = pc.cast(pc.if_else(pc.equal(month_text, ""), "1", month_text), pa.int32())
        month_n = month.to_numpy()
        now = row_io.current_period()
        not_future = _mask(pc.less_equal(safe, now))  # "YYYY" and "YYYY-MM" compare as text
        fast = (
            shaped & (year >= 1990) & (year <= 2100) & (month_n >= 1) & (month_n <= 12) & not_future
        )
        text = arr
    elif f.kind == CHOICE:
        fast = nonempty & _mask(pc.is_in(arr, pa.array(list(f.choices), pa.string())))
        text = arr
    elif f.kind == BOOL:
        lowered = pc.utf8_lower(arr)
        yes = _mask(pc.is_in(lowered, pa.array(sorted(row_io.TRUE_WORDS))))
        no = _mask(pc.is_in(lowered, pa.array(sorted(row_io.FALSE_WORDS - {""}))))
        fast = nonempty & (yes | no)
        text = pc.if_else(pa.array(yes), "True", "False")
    else:
        fast = nonempty & (pc.utf8_length(arr).to_numpy(zero_copy_only=False) <= f.max_length)
        text = arr
    return pc.if_else(pa.array(fast), text, null), fast


def check_chunk(
    spec: CategorySpec, chunk: Chunk, registered: Callable[[list[str]], dict[str, int]]
) -> Checked:
    """Validate every field of a chunk; ``registered`` maps USCCs to registered entity ids."""
    n = len(chunk)
    ok = np.ones(n, dtype=bool)
    errors: list[tuple[int, str, str, str]] = []
    values: dict[str, pa.Array] = {}
    numbers = chunk.numbers

    def fail(idx: np.ndarray, header: str, texts: list[str], rules: list[str] | str) -> None:
        ok[idx] = False
        rule_list = rules if isinstance(rules, list) else [rules] * len(idx)
        errors.extend(
            (int(numbers[i]), header, t[:255], r[:255])
            for i, t, r in zip(idx.tolist(), texts, rule_list, strict=True)
        )

    entity_ids = np.full(n, -1, dtype=np.int64)
    for f in spec.all_fields:
        arr = chunk.column(f.key)
        nonempty = _mask(pc.not_equal(arr, ""))
        header = _(f.header)
        if f.required and not nonempty.all():
            missing = np.flatnonzero(~nonempty)
            fail(missing, header, [""] * len(missing), _("必填"))
        if f.key == "uscc":
            values[f.key], entity_ids = _check_uscc(arr, nonempty, registered, header, fail)
            continue
        canon, fast = _fast(f, arr, nonempty)
        slow = np.flatnonzero(nonempty & ~fast)
        if len(slow):
            fixed = canon.to_pylist()
            bad: list[int] = []
            texts: list[str] = []
            rules: list[str] = []
            for i, text in zip(slow.tolist(), arr.take(pa.array(slow)).to_pylist(), strict=True):
                try:
                    fixed[i] = canonical(row_io.parse_field(f, text))
                except ValueError as exc:
                    bad.append(i)
                    texts.append(text)
                    rules.append(str(exc))
            if bad:
                fail(np.array(bad, dtype=np.int64), header, texts, rules)
            canon = pa.array(fixed, pa.string())
        values[f.key] = canon
    _check_region(values, ok, fail)
    _check_row_rules(spec, chunk, values, fail)
    no_subject = np.flatnonzero(
        ~_mask(pc.not_equal(chunk.column("uscc"), ""))
        & ~_mask(pc.not_equal(chunk.column("name"), ""))
    )
    if len(no_subject):
        fail(
            no_subject,
            _("统一社会信用代码"),
            [""] * len(no_subject),
            _("统一社会信用代码与主体名称至少填写一项"),
        )
    errors.sort(key=lambda e: e[0])
    return Checked(numbers, values, ok, entity_ids, errors)


def _check_region(values: dict[str, pa.Array], ok: np.ndarray, fail: Callable[..., None]) -> None:
    """The optional region column must hold a real administrative division code."""
    arr = values.get("region")
    if arr is None:
        return
    texts = arr.to_pylist()
    known: dict[str, bool] = {}
    bad: list[int] = []
    for i, text in enumerate(texts):
        if not text:
            continue
        if text not in known:
            known[text] = divisions.get(text) is not None
        if not known[text]:
            bad.append(i)
    if bad:
        fail(
            np.array(bad, dtype=np.int64),
            _("行政区划代码"),
            [texts[i] for i in bad],
            _("不是有效的行政区划代码（应为GB/T 2260 等国家标准中的区划代码，如 630102）"),
        )


def _check_row_rules(
    spec: CategorySpec,
    chunk: Chunk,
    values: dict[str, pa.Array],
    fail: Callable[..., None],
) -> None:
    """Rules across the fields of one row (``row_rules``), on every row: a cell refused on its
    own (a decision date in the future) is still compared as delivered, so that the row's
    errors are all reported at once."""
    keys = row_rules.fields_of(spec.code)
    if not keys:
        return
    columns = {}
    for k in keys:
        if k in values:
            canon = values[k].to_pylist()
            raw = chunk.column(k).to_pylist()
            columns[k] = [
                c if c is not None else (r or "") for c, r in zip(canon, raw, strict=True)
            ]
    for i in range(len(chunk)):
        row = {k: col[i] for k, col in columns.items()}
        for key, message in row_rules.row_errors(spec.code, row):
            fail(np.array([i]), _(spec.by_key[key].header), [row.get(key, "")], message)


def _check_uscc(
    arr: pa.Array,
    nonempty: np.ndarray,
    registered: Callable[[list[str]], dict[str, int]],
    header: str,
    fail: Callable[..., None],
) -> tuple[pa.Array, np.ndarray]:
    """Validate USCCs and find their entities.

    A code equal to a registered entity's code is valid (the registry validated it when the
    entity was registered); any other code goes through the full GB 32100 check once per
    distinct value, and a valid code of an entity not registered yet leaves the row unresolved.
    """
    upper = pc.utf8_upper(arr)
    shaped = nonempty & _mask(pc.match_substring_regex(upper, _USCC_FAST))
    codes = upper.to_pylist()
    distinct = sorted({c for c, s in zip(codes, shaped.tolist(), strict=True) if s})
    ids = registered(distinct)
    entity_ids = np.fromiter((ids.get(c, -1) for c in codes), dtype=np.int64, count=len(codes))
    unknown = np.flatnonzero(nonempty & (entity_ids < 0))
    if len(unknown):
        raw = arr.take(pa.array(unknown)).to_pylist()
        normal: dict[str, str | None] = {}
        messages: dict[str, str] = {}
        for text in set(raw):
            try:
                normal[text] = row_io.uscc_code(text)
            except ReferenceDataError as exc:
                normal[text] = None
                messages[text] = str(exc.message)
        found = registered(sorted({c for c in normal.values() if c}))
        bad: list[int] = []
        for i, text in zip(unknown.tolist(), raw, strict=True):
            code = normal[text]
            if code is None:
                bad.append(i)
                codes[i] = None
                continue
            codes[i] = code
            entity_ids[i] = found.get(code, -1)
        if bad:
            texts = [codes_raw for codes_raw in arr.take(pa.array(bad)).to_pylist()]
            fail(np.array(bad, dtype=np.int64), header, texts, [messages[t] for t in texts])
    for i in np.flatnonzero(~nonempty).tolist():
        codes[i] = None
    return pa.array(codes, pa.string()), entity_ids


# ---------------------------------------------------------------- hashing


_SEED = np.uint64(0x6A09E667F3BCC908)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_S = (np.uint64(29), np.uint64(30), np.uint64(27), np.uint64(31))


def hash64(texts: pa.Array) -> np.ndarray:
    """Return a stable 64-bit hash (as int64) of each text, vectorised over 8-byte words.

    Every byte and the length enter the hash; the words are read little-endian on any machine.
    Used to recognise a row delivered again, scoped to one entity, source and category, where
    a few hundred rows meet at most: a 64-bit hash makes a false match practically impossible.
    """
    data = pc.cast(texts, pa.binary())
    n = len(data)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    lengths = pc.binary_length(data).to_numpy(zero_copy_only=False).astype(np.uint64)
    width = max(8, int(-(-int(lengths.max()) // 8) * 8))
    fixed = np.array(data.to_numpy(zero_copy_only=False), dtype=f"S{width}")
    words = fixed.view("<u8").reshape(n, width // 8)
    with np.errstate(over="ignore"):
        h = (lengths * _M1) ^ _SEED
        for j in range(width // 8):
            mixed = (h ^ words[:, j]) * _M2
            mixed ^= mixed >> _S[1]
            # only a text's own words: the hash must not depend on the longest text beside it
            h = np.where(lengths > np.uint64(8 * j), mixed, h)
        h ^= h >> _S[0]
        h *= _M3
        h ^= h >> _S[3]
        h *= _M2
        h ^= h >> _S[2]
    hashed: np.ndarray = h.view(np.int64)
    return hashed


def canonical_rows(category: str, values: dict[str, pa.Array]) -> pa.Array:
    """Return "category␟key=value␟…" per row, keys sorted, empty values left out."""
    n = len(next(iter(values.values()))) if values else 0
    parts = [_tagged(f"\x1f{k}=", values[k], "") for k in sorted(values)]
    return _concat([pa.array([category] * n, pa.string()), *parts])


def _tagged(prefix: str, arr: pa.Array, suffix: str) -> pa.Array:
    """prefix + value + suffix where a value is present, else ""."""
    return pc.fill_null(pc.binary_join_element_wise(prefix, arr, suffix, ""), "")


def _concat(parts: list[pa.Array]) -> pa.Array:
    # Not null_handling="skip": pyarrow 26 drops rows whose inputs are all null with it.
    return pc.binary_join_element_wise(*parts, "")


def row_hash(category: str, values: dict[str, Any]) -> int:
    """Return the hash of one row of typed values (the same as the column-wise pipeline's)."""
    cols = {k: pa.array([canonical(v)], pa.string()) for k, v in values.items() if v != ""}
    return int(hash64(canonical_rows(category, cols))[0])


# ---------------------------------------------------------------- facts


def json_objects(values: dict[str, pa.Array], keys: list[str]) -> pa.Array:
    """Return each row's present values as a JSON object text (what ``data`` stores)."""
    n = len(next(iter(values.values())))
    if not keys:
        return pa.array(["{}"] * n, pa.string())
    parts = []
    for k in keys:
        escaped = pc.replace_substring(pc.replace_substring(values[k], "\\", "\\\\"), '"', '\\"')
        parts.append(_tagged(f', "{k}": "', escaped, '"'))
    body = pc.utf8_slice_codeunits(_concat(parts), 2)  # without the first ", "
    out = pc.binary_join_element_wise("{", body, "}", "")
    control = np.zeros(n, dtype=bool)
    for k in keys:
        control |= _mask(pc.match_substring_regex(values[k], _CONTROL))
    if control.any():  # rare: let json.dumps escape control characters
        fixed = out.to_pylist()
        for i in np.flatnonzero(control).tolist():
            row = {k: values[k][i].as_py() for k in keys}
            fixed[i] = json.dumps(
                {k: v for k, v in row.items() if v is not None}, ensure_ascii=False
            )
        out = pa.array(fixed, pa.string())
    return out


def _truthy(f: FieldSpec, arr: pa.Array) -> np.ndarray:
    if f.kind == DECIMAL:
        return _mask(pc.not_equal(arr, "0.00"))
    if f.kind == INT:
        return _mask(pc.not_equal(arr, "0"))
    if f.kind == BOOL:
        return _mask(pc.equal(arr, "True"))
    return _mask(pc.not_equal(arr, ""))


def _to_days(arr: pa.Array) -> np.ndarray:
    """Canonical date texts to datetime64[D] (NaT where null)."""
    days: np.ndarray = pc.cast(arr, pa.date32()).to_numpy(zero_copy_only=False)
    return days.astype("datetime64[D]")


def _period_ends(arr: pa.Array) -> np.ndarray:
    """Last day of each "YYYY" or "YYYY-MM" period (NaT where null)."""
    month = pc.if_else(
        pc.equal(pc.utf8_length(arr), 4),
        pc.binary_join_element_wise(arr, "-12", ""),
        arr,
    )
    first = _to_days(pc.binary_join_element_wise(month, "-01", ""))
    months = first.astype("datetime64[M]")
    return (months + 1).astype("datetime64[D]") - np.timedelta64(1, "D")


def add_years(days: np.ndarray, years: int) -> np.ndarray:
    """Add whole years to dates; 29 February becomes 28 February in a common year."""
    months = days.astype("datetime64[M]")
    day = (days - months.astype("datetime64[D]")).astype(np.int64)
    target = months + np.timedelta64(12 * years, "M")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    shifted: np.ndarray = target.astype("datetime64[D]") + np.minimum(day, length - 1).astype(
        "timedelta64[D]"
    )
    return shifted


def fact_columns(spec: CategorySpec, values: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Return the typed Fact columns (as canonical text) with negativity and retention end."""
    n = len(next(iter(values.values())))
    cols: dict[str, pa.Array] = {}
    for f in spec.fields:
        if f.column:
            cols[f.column] = values[f.key]
    negative = np.full(n, spec.always_negative, dtype=bool)
    for key in spec.negative_when:
        negative |= _truthy(spec.by_key[key], values[key])
    for key, bad_values in spec.negative_values.items():
        negative |= _mask(pc.is_in(values[key], pa.array(list(bad_values), pa.string())))
    retention = pa.nulls(n, pa.string())
    if negative.any():
        end = np.full(n, np.datetime64(timezone.localdate().isoformat(), "D"))
        for source in ("period", "occurred_on", "behaviour_end"):  # later wins
            col = cols.get(source)
            if col is None:
                continue
            days = _period_ends(col) if source == "period" else _to_days(col)
            end = np.where(np.isnat(days), end, days)
        until = add_years(end, row_io.RETENTION_YEARS).astype(str)
        retention = pc.if_else(pa.array(negative), pa.array(until, pa.string()), None)
    cols["negative"] = pa.array(negative)
    cols["retention_until"] = retention
    return cols


def present(arr: pa.Array) -> np.ndarray:
    """Mask of the cells that hold a value."""
    mask: np.ndarray = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    return mask


def row_values(values: dict[str, pa.Array], i: int) -> dict[str, str]:
    """Return one row's present canonical values (for the resolution queue)."""
    return {k: v for k, arr in values.items() if (v := arr[i].as_py()) is not None}
