"""Kill an ingestion midway in a real subprocess: nothing of the batch shows; a re-run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import xinrong

ROWS = 30_000  # six chunks of the pipeline (XINRONG_INGEST_CHUNK_ROWS below)

SETUP = """
import random
from xinrong.accounts.services.organisations import organisation_create
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.models import MarketEntity
from xinrong.reference import uscc
org = organisation_create(name="税务局", kind="government")
source_create(code="tax", name="税务局", organisation=org, categories=["tax"])
rng = random.Random(1)
codes = sorted({uscc.generate(rng, division_code="630102") for _ in range(300)})
MarketEntity.objects.bulk_create([
    MarketEntity(uscc=c, name=f"企业{i}", entity_type="enterprise", industry_code="F51",
                 division_code="630102") for i, c in enumerate(codes)])
print("\\n".join(codes))
"""

COUNT = """
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.selectors import fact_visible
b = IngestBatch.objects.first()
print(fact_visible().count(), b.status if b else "none")
"""


@pytest.fixture
def isolated_env(tmp_path):
    """Environment for subprocesses with their own database (SQLite file, or a fresh PG db)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        XINRONG_VAR=str(tmp_path),
        SECRET_KEY="kill-test-" + "k" * 40,
        DJANGO_SETTINGS_MODULE="xinrong.config.settings",
        # several chunks, so the kill lands between two of them and never after the last
        XINRONG_INGEST_CHUNK_ROWS="5000",
        # the code under test, not whichever copy of xinrong is installed in the environment
        PYTHONPATH=str(Path(xinrong.__file__).resolve().parent.parent),
    )
    url = os.environ.get("DATABASE_URL", "")
    dbname = None
    if url.startswith("postgres"):
        import psycopg

        dbname = f"xinrong_kill_{uuid.uuid4().hex[:8]}"
        base, _sep, _db = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {dbname}")
        env["DATABASE_URL"] = f"{base}/{dbname}"
    else:
        env.pop("DATABASE_URL", None)
    yield env
    if dbname:
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def _xinrong(env, *args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "xinrong.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        **kw,
    )


def test_killed_ingestion_leaves_nothing_and_rerun_completes(isolated_env, tmp_path):
    env = isolated_env
    _xinrong(env, "migrate", "--noinput", "-v", "0")
    codes = _xinrong(env, "shell", "-v", "0", "-c", SETUP).stdout.split()
    csv_path = Path(tmp_path) / "tax.csv"
    with csv_path.open("w", encoding="utf-8") as fh:
        fh.write("统一社会信用代码,所属期,实缴税额（元）,纳税信用等级\n")
        for i in range(ROWS):
            year, month = 1995 + i // 12 % 30, i % 12 + 1
            fh.write(f"{codes[i % len(codes)]},{year}-{month:02d},{i}.00,A\n")
    cmd = [
        sys.executable,
        "-m",
        "xinrong.cli",
        "ingest",
        "--source",
        "tax",
        "--category",
        "tax",
        str(csv_path),
    ]
    proc = subprocess.Popen(
        cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first chunk has been written
    assert "rows" in first, first
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    out = _xinrong(env, "shell", "-v", "0", "-c", COUNT).stdout
    assert out.split() == ["0", "processing"], (first, out)
    _xinrong(env, "ingest", "--source", "tax", "--category", "tax", str(csv_path))
    visible, status = _xinrong(env, "shell", "-v", "0", "-c", COUNT).stdout.split()
    assert status == "completed"
    # 300 entities x 360 distinct months: every row is distinct and accepted
    assert int(visible) == ROWS
