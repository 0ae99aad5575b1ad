"""What every part of the seed shares: the report, scales, batch sizes and the data-file loader."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DEMO_PASSWORD = "Xinrong2026"  # noqa: S105 — printed for the demo; production has no seed users
SCALES = {"demo": 2_000, "city": 60_000, "province": 520_000}
BATCH = 5_000  # rows per INSERT
CHUNK = 20_000  # entities generated, written and committed together

DATA_DIR = Path(__file__).parent / "data"


@cache
def load_data(name: str) -> dict[str, Any]:
    """Return the parsed TOML file ``data/<name>.toml`` of this package."""
    return tomllib.loads((DATA_DIR / f"{name}.toml").read_text("utf-8"))


@dataclass
class SeedReport:
    """What a seed run created (zero everywhere on a repeated run)."""

    organisations: int = 0
    users: int = 0
    persons: int = 0
    entities: int = 0
    relationships: int = 0
    guarantees: int = 0
    shared_phones: int = 0
    facts: int = 0
    scored: int = 0
    products: int = 0
    applications: int = 0
    loans: int = 0
    demands: int = 0
    guarantee_requests: int = 0
    reserve_entries: int = 0
    department_disputes: int = 0
    policies: dict[str, Any] = field(default_factory=dict)
    riskfund: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Yield ``items`` in consecutive slices of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
