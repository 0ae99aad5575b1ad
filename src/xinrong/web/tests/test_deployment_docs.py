"""docs/deployment.md and deploy/**: every xinrong variable they name is one the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
READ_BY = [ROOT / "src/xinrong/config/settings.py", ROOT / "src/xinrong/cli.py"]
# Read by Compose and the official PostgreSQL image, not by xinrong (said so in the document).
NOT_OURS = {"POSTGRES_PASSWORD", "POSTGRES_DB", "POSTGRES_USER"}
NAME = re.compile(
    r"\b(XINRONG_[A-Z0-9_]+|[A-Z][A-Z0-9]*_[A-Z0-9_]*(?:URL|KEY|HOSTS|ORIGINS|LEVEL))\b"
)


def test_every_variable_named_exists():
    code = "\n".join(path.read_text(encoding="utf-8") for path in READ_BY)
    texts = [ROOT / "docs/deployment.md", *sorted((ROOT / "deploy").rglob("*"))]
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in texts
        if path.is_file()
        for name in NAME.findall(path.read_text(encoding="utf-8"))
        if name not in NOT_OURS and f'"{name}"' not in code
    }
    assert not missing, sorted(missing)


def test_no_merge_conflict_left_in_the_docs():
    for path in (ROOT / "docs").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^(<<<<<<<|=======$|>>>>>>>)", text, re.M), path
