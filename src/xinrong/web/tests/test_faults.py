"""kill -9 in the middle of the platform's money and data writes; after a restart nothing is half
done and nothing is done twice.

Each scenario runs the real code in a subprocess of its own (the process a web request or a task
worker would be), kills it — or the PostgreSQL server under it — at a chosen point, restarts,
and checks the database:

- a claim payment (``claim_decide``, the finance approver's final "agree", which pays inside its
  transaction): killed while its transaction holds the approval but not yet the ledger entry —
  afterwards the claim waits at the same step, no ledger entry, balance unchanged; the approver
  agrees again and the claim is paid exactly once; a third "agree" is refused;
- an ingestion processed in the web request (a small upload): the request's process killed
  mid-batch; the recovery sweep fails the batch and clears its facts; delivering the file again
  completes with every fact (the task-worker kill is ``datahub/tests/test_kill_worker.py``);
- an ingestion run by the task worker with PostgreSQL killed mid-batch: after PostgreSQL and the
  worker restart, the batch completes with every fact, each exactly once;
- a full scoring run (the worker's ``rescore_all`` task, ``profiles_score``) killed while its
  transaction replaces the snapshots: every entity keeps exactly one latest snapshot (the old
  one), the killed run wrote none and is not taken for finished; the next worker fails the dead
  task and a new run scores every entity once.

PostgreSQL kills use a private cluster the test starts (``initdb`` as user postgres into a
temporary folder, a loopback port in 55432–55439 or ``XINRONG_FAULTS_PG_PORTS``, trust
authentication), one per module, and run only when the suite runs on PostgreSQL. Nothing here
runs ``migrate`` per test: each test gets a copy of a database migrated once (``migrated.py``;
on the private cluster a ``CREATE DATABASE … TEMPLATE`` of its migrated one).

The point where a kill lands is made certain, not timed: on PostgreSQL the test holds a table (or
row) lock the process must wait for, and kills it while ``pg_stat_activity`` shows it waiting.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from xinrong.datahub.tests.migrated import (  # noqa: F401
    migrate,
    migrated_env,
    migrated_template,
    pg_copy_create,
    pg_drop,
    subprocess_env,
)
from xinrong.datahub.tests.test_kill_midway import SETUP as INGEST_SETUP
from xinrong.datahub.tests.test_kill_midway import _xinrong
from xinrong.datahub.tests.test_kill_worker import DELIVER, _query

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# another range where several suites run on one machine: XINRONG_FAULTS_PG_PORTS=55450-55459
_ports = os.environ.get("XINRONG_FAULTS_PG_PORTS", "55432-55439").split("-")
PG_PORTS = range(int(_ports[0]), int(_ports[-1]) + 1)
ON_POSTGRES = connection.vendor == "postgresql"
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="kills a private PostgreSQL cluster: the PostgreSQL leg only"
)

# --- the claim --------------------------------------------------------------------------------

CLAIM_SETUP = """
from itertools import count
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.riskfund.services import claims
from xinrong.riskfund.tests.factories import fund_world, platform_loan
from xinrong.riskfund.tests.test_claims import pdf
seq = count(1)
def make_user(kind, roles, *, org=None, **kw):
    n = next(seq)
    org = org or organisation_create(name=f"测试机构{n}", kind=kind)
    return user_create(username=kw.pop("username", f"u{n}_{kind}"), password="Fault-pass-2026",
                       organisation=org, roles=roles,
                       display_name=kw.pop("display_name", f"测试用户{n}"), **kw)
w = fund_world(make_user, balance="1000000.00")
loan = platform_loan(w.bank, w.officer, w.product, principal="100000.00")
claim = claims.claim_file(actor=w.officer, loan=loan, loss_principal="100000.00", evidence=[pdf()])
claims.claim_decide(claim=claim, actor=w.office, approved=True)
print(claim.pk, w.finance.username)
"""

PAY = """
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError
from xinrong.riskfund.models import Claim
from xinrong.riskfund.services import claims
try:
    claims.claim_decide(claim=Claim.objects.get(pk=CLAIM), actor=User.objects.get(username=USER),
                        approved=True)
    print("paid")
except ApplicationError as exc:
    print("refused", exc.code)
"""


def _shell(env: dict[str, str], code: str, **names: object) -> str:
    for name, value in names.items():
        code = code.replace(name, repr(value))
    return _xinrong(env, "shell", "-v", "0", "-c", code).stdout.strip()


def _popen_shell(env: dict[str, str], code: str, **names: object) -> subprocess.Popen[str]:
    for name, value in names.items():
        code = code.replace(name, repr(value))
    return subprocess.Popen(
        [sys.executable, "-m", "xinrong.cli", "shell", "-v", "0", "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def _blocking(url: str, table: str) -> Iterator[object]:
    """Hold a lock that lets readers through but makes any writer of ``table`` wait."""
    import psycopg

    conn = psycopg.connect(url)
    conn.execute(f"LOCK TABLE {table} IN SHARE MODE")
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        with contextlib.suppress(Exception):
            conn.close()


def _wait_for_lock_wait(url: str, pid_of: subprocess.Popen[str], seconds: float = 60) -> None:
    """Return once a backend of this database waits for a lock (the subprocess reached it)."""
    import psycopg

    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0]:
                return
            assert pid_of.poll() is None, pid_of.communicate()
            time.sleep(0.05)
    raise AssertionError("the process never reached the write")


def _claim_prepare(env: dict[str, str]) -> tuple[int, str, str]:
    claim_id, finance = _shell(env, CLAIM_SETUP).split()[-2:]
    return int(claim_id), finance, "1000000.00"


AFTER = """
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError
from xinrong.riskfund.choices import EntryKind
from xinrong.riskfund.models import Claim, LedgerEntry
from xinrong.riskfund.services import claims, ledger
def state():
    claim = Claim.objects.get(pk=CLAIM)
    paid = LedgerEntry.objects.filter(claim=claim, kind=EntryKind.COMPENSATION).count()
    print(claim.status, paid, ledger.fund_balance(claim.fund), ledger.ledger_consistent(claim.fund))
state()
for _ in range(2):  # the approver agrees again, then once more (a retry, a double click)
    try:
        claims.claim_decide(claim=Claim.objects.get(pk=CLAIM),
                            actor=User.objects.get(username=USER), approved=True)
        print("paid")
    except ApplicationError as exc:
        print("refused", exc.code)
state()
"""


def _claim_pays_once_after(env: dict[str, str], claim_id: int, finance: str, before: str) -> None:
    lines = _shell(env, AFTER, CLAIM=claim_id, USER=finance).splitlines()
    # nothing of the killed payment is left: the claim waits at the same step, no entry
    assert lines[0].split() == ["in_review", "0", before, "True"]
    # agreed again: paid once; the third "agree" is refused
    assert lines[1] == "paid"
    assert lines[2].startswith("refused")
    status, paid, balance, consistent = lines[3].split()
    assert (status, paid, consistent) == ("paid", "1", "True")
    assert float(before) - float(balance) == 30000.0  # 30% of the 100,000 loss


def test_claim_payment_killed_midway_pays_exactly_once_after(migrated_env):  # noqa: F811
    env = migrated_env
    claim_id, finance, before = _claim_prepare(env)
    url = env.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        # the payment's transaction has recorded the approval and waits to write the entry
        with _blocking(url, "riskfund_ledgerentry"):
            payer = _popen_shell(env, PAY, CLAIM=claim_id, USER=finance)
            _wait_for_lock_wait(url, payer)
            payer.send_signal(signal.SIGKILL)
            payer.wait(timeout=30)
    else:
        # SQLite: the payment waits for the database's write lock the test holds
        import sqlite3

        db = sqlite3.connect(Path(env["XINRONG_VAR"]) / "xinrong.sqlite3", isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        payer = _popen_shell(env, PAY, CLAIM=claim_id, USER=finance)
        time.sleep(3)  # Django's start-up, then the wait for the lock (busy_timeout is 10 s)
        assert payer.poll() is None, payer.communicate()
        payer.send_signal(signal.SIGKILL)
        payer.wait(timeout=30)
        db.execute("ROLLBACK")
        db.close()
    assert payer.returncode == -signal.SIGKILL
    _claim_pays_once_after(env, claim_id, finance, before)


# --- a private PostgreSQL cluster ---------------------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of this test's own, which it may kill."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/xinrong"

    def _pg(self, *args: str) -> None:
        subprocess.run(
            ["/usr/sbin/runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def init(self) -> None:
        self._pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                 "--no-sync")  # fmt: skip
        self.start()
        import psycopg

        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE xinrong")

    def start(self) -> None:
        # fsync off: a killed process loses nothing the OS has; only a machine crash would
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                 "-o", options, "-w", "start")  # fmt: skip

    def kill(self) -> None:
        """kill -9 the server: the postmaster and every backend at once."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGSTOP)  # it forks no backend while they are listed
        pids = [postmaster, *_children(postmaster)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        """Start again after a kill (crash recovery); retried while the old memory is held."""
        deadline = time.monotonic() + 60
        while True:
            try:
                self.start()
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise AssertionError((self.root / "log").read_text()[-3000:]) from None
                time.sleep(0.5)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")


def _free_port() -> int:
    for port in PG_PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 55432–55439 for a private PostgreSQL")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


TEMPLATE = "migrated_template"


@pytest.fixture(scope="module")
def _cluster(tmp_path_factory):
    """One private cluster for this module, with one migrated template database."""
    if not (PG_BIN / "initdb").exists() or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL 15's initdb and root (to run it as user postgres)")
    root = Path(tempfile.mkdtemp(prefix="xinrong-faults-pg-"))
    shutil.chown(root, "postgres", "postgres")
    c = Cluster(root)
    try:
        c.init()
        import psycopg

        with psycopg.connect(c.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE xinrong RENAME TO {TEMPLATE}")
        c.url = c.url.rsplit("/", 1)[0] + f"/{TEMPLATE}"
        migrate(subprocess_env(tmp_path_factory.mktemp("cluster-template"), c.url))
        yield c
    finally:
        with contextlib.suppress(Exception):
            pg_drop(c.url, TEMPLATE)
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def cluster(_cluster, tmp_path):
    """The module's cluster, up, and a migrated database of this test's own on it (``c.url``)."""
    c = _cluster
    import psycopg

    try:
        psycopg.connect(c.url.rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()
    except psycopg.OperationalError:  # an earlier test failed while the server was down
        c.restart()
    name = f"xinrong_{uuid.uuid4().hex[:8]}"
    c.url = pg_copy_create(c.url, TEMPLATE, name)
    yield c, subprocess_env(tmp_path, c.url)
    with contextlib.suppress(Exception):
        pg_drop(c.url, name)


@postgres_only
def test_claim_payment_survives_postgresql_killed_midway(cluster):
    c, env = cluster
    claim_id, finance, before = _claim_prepare(env)
    with _blocking(c.url, "riskfund_ledgerentry"):
        payer = _popen_shell(env, PAY, CLAIM=claim_id, USER=finance)
        _wait_for_lock_wait(c.url, payer)
        c.kill()
    out, _err = payer.communicate(timeout=60)
    assert payer.returncode != 0 and "paid" not in out  # the payment failed with the server
    c.restart()
    _claim_pays_once_after(env, claim_id, finance, before)


# --- ingestion ----------------------------------------------------------------------------------

ROWS = 20_000  # ten chunks of 2,000

INGEST_STATE = """
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.datahub.selectors import fact_visible
for b in IngestBatch.objects.order_by("pk"):
    print(b.pk, b.status, b.processed, Fact.objects.filter(batch=b).count())
print("visible", fact_visible().count())
"""


def _ingest_prepare(env: dict[str, str], tmp_path: Path) -> Path:
    codes = _xinrong(env, "shell", "-v", "0", "-c", INGEST_SETUP).stdout.split()
    csv_path = tmp_path / "tax.csv"
    with csv_path.open("w", encoding="utf-8") as fh:
        fh.write("统一社会信用代码,所属期,实缴税额（元）,纳税信用等级\n")
        for i in range(ROWS):
            year, month = 1995 + i // 12 % 30, i % 12 + 1
            fh.write(f"{codes[i % len(codes)]},{year}-{month:02d},{i}.00,A\n")
    return csv_path


def _wait_mid_batch(env: dict[str, str], proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = _query(env, "SELECT status, processed FROM datahub_ingestbatch ORDER BY id DESC")
        if row and row[0] == "processing" and 0 < row[1] < ROWS:
            return
        assert proc.poll() is None, "the process ended before the kill"
        time.sleep(0.01)
    raise AssertionError("the batch never started")


def _batches(env: dict[str, str]) -> tuple[list[list[str]], int]:
    lines = [line.split() for line in _shell(env, INGEST_STATE).splitlines()]
    return lines[:-1], int(lines[-1][1])


def test_web_request_killed_mid_ingestion_fails_batch_and_redelivery_completes(
    migrated_env,  # noqa: F811
    tmp_path,
):
    env = {
        **migrated_env,
        "XINRONG_INGEST_CHUNK_ROWS": "2000",
        "XINRONG_INGEST_INLINE_BYTES": str(100 * 1024 * 1024),  # processed in the request
        "XINRONG_INGEST_STALE_SECONDS": "1",
    }
    csv_path = _ingest_prepare(env, tmp_path)
    request = _popen_shell(env, DELIVER.replace("CSV_PATH", repr(str(csv_path))))
    _wait_mid_batch(env, request)
    request.send_signal(signal.SIGKILL)
    request.wait(timeout=30)
    time.sleep(1.5)  # no progress for longer than XINRONG_INGEST_STALE_SECONDS
    started = _xinrong(env, "worker", "--batch", "--no-startup-delay", "--no-reload").stdout
    assert "1 failed" in started, started
    (batch,), visible = _batches(env)
    assert (batch[1], batch[3]) == ("failed", "0")  # failed, none of its facts kept
    assert visible == 0
    # the sender delivers the file again: the same batch (the same file) runs again, complete,
    # every fact once
    _xinrong(env, "shell", "-v", "0", "-c", DELIVER.replace("CSV_PATH", repr(str(csv_path))))
    (again,), visible = _batches(env)
    assert again == [batch[0], "completed", str(ROWS), str(ROWS)]
    assert visible == ROWS


@postgres_only
def test_postgresql_killed_mid_ingestion_batch_completes_after_restart(cluster, tmp_path):
    c, env = cluster
    env = {
        **env,
        "XINRONG_INGEST_CHUNK_ROWS": "2000",
        "XINRONG_INGEST_INLINE_BYTES": "0",  # every delivery goes to the worker
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    csv_path = _ingest_prepare(env, tmp_path)
    _xinrong(env, "shell", "-v", "0", "-c", DELIVER.replace("CSV_PATH", repr(str(csv_path))))
    worker = subprocess.Popen(
        [sys.executable, "-m", "xinrong.cli", "worker", "--no-startup-delay", "--no-reload"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_mid_batch(env, worker)
        c.kill()
        c.restart()
        # the worker lost its connection mid-task; whatever it does now, the batch must finish
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            row = _query(env, "SELECT status FROM datahub_ingestbatch")
            if row and row[0] == "completed":
                break
            time.sleep(0.2)
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
        out = worker.communicate(timeout=30)[0]
    (batch,), visible = _batches(env)
    if batch[1] != "completed":  # the worker died with the server: the next one recovers it
        started = _xinrong(env, "worker", "--batch", "--no-startup-delay", "--no-reload").stdout
        assert "1 batch(es) restarted" in started, (started, out)
        (batch,), visible = _batches(env)
    assert batch[1:] == ["completed", str(ROWS), str(ROWS)], out[-3000:]
    assert visible == ROWS


# --- a full scoring run -------------------------------------------------------------------------

ENTITIES = 3000

SCORE_SETUP = """
import random
from xinrong.credit.models import ScoreModel
from xinrong.credit.services.scoring import model_activate, profiles_score
from xinrong.credit.tests.test_scoring import _card
from xinrong.enterprises.models import MarketEntity
from xinrong.reference import uscc
rng = random.Random(7)
codes = sorted({uscc.generate(rng, division_code="630102") for _ in range(ENTITY_COUNT)})
MarketEntity.objects.bulk_create([
    MarketEntity(uscc=c, name=f"企业{i}", entity_type="enterprise", industry_code="F51",
                 division_code="630102") for i, c in enumerate(codes)])
v1 = model_activate(model=ScoreModel.objects.create(version=1, name="v1",
                                                    card=_card().to_json()), actor=None)
profiles_score()
# a new version: the next full run writes a new latest snapshot of every entity
model_activate(model=ScoreModel.objects.create(version=2, name="v2", card=_card().to_json()),
               actor=None)
print(MarketEntity.objects.count())
"""

ENQUEUE_RESCORE = """
from xinrong.credit.tasks import rescore_all
rescore_all.enqueue()
"""

SCORE_STATE = """
from django.db.models import Count
from django_tasks_db.models import DBTaskResult
from xinrong.credit.models import CreditProfile, ScoringRun
from xinrong.enterprises.models import MarketEntity
latest = CreditProfile.objects.filter(is_latest=True)
per_entity = latest.values("entity_id").annotate(n=Count("id"))
print("entities", MarketEntity.objects.count(), latest.values("entity_id").distinct().count(),
      sum(1 for r in per_entity if r["n"] != 1))
print("latest_versions", ",".join(str(v) for v in sorted(set(latest.values_list(
      "model__version", flat=True)))))
for r in ScoringRun.objects.order_by("pk"):
    print("run", r.pk, r.model.version, r.full, r.entities, r.finished_at is not None,
          CreditProfile.objects.filter(run=r).count(), bool(r.psi_features))
print("tasks", ",".join(sorted(DBTaskResult.objects.filter(task_path__endswith=".rescore_all")
                                .values_list("status", flat=True))) or "-")
"""


def _score_state(env: dict[str, str]) -> tuple[list[str], list[str], list[list[str]], str]:
    lines = [line.split() for line in _shell(env, SCORE_STATE).splitlines()]
    runs = [line[1:] for line in lines if line[0] == "run"]
    return lines[0][1:], lines[1][1:], runs, lines[-1][1]


def test_worker_killed_mid_full_scoring_leaves_old_profiles_and_next_run_completes(
    migrated_env,  # noqa: F811
):
    env = {**migrated_env, "TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}
    n = ENTITIES
    assert _shell(env, SCORE_SETUP, ENTITY_COUNT=n).splitlines()[-1] == str(n)
    _shell(env, ENQUEUE_RESCORE)
    url = env.get("DATABASE_URL", "")
    worker = subprocess.Popen(
        [sys.executable, "-m", "xinrong.cli", "worker", "--no-startup-delay", "--no-reload"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        if url.startswith("postgres"):
            # one entity's latest snapshot is held: the run's transaction has started replacing
            # the snapshots (is_latest of others already cleared) and waits for this one
            import psycopg

            with psycopg.connect(url) as holder:
                holder.execute(
                    "SELECT id FROM credit_creditprofile WHERE is_latest "
                    "AND entity_id = (SELECT max(id) FROM enterprises_marketentity) FOR UPDATE"
                ).fetchone()
                _wait_for_lock_wait(url, worker)
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=30)
                holder.rollback()
        else:
            # SQLite: the run's row is committed first, then the long scoring transaction runs
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                row = _query(
                    env, "SELECT count(*) FROM credit_scoringrun WHERE finished_at IS NULL"
                )
                if row and row[0]:
                    break
                assert worker.poll() is None, worker.communicate()[0][-3000:]
                time.sleep(0.01)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    entities, versions, runs, tasks = _score_state(env)
    # every entity still has exactly one latest snapshot: the old version's, nothing of the kill
    assert entities == [str(n), str(n), "0"]
    assert versions == ["1"]
    assert tasks == "RUNNING"
    (v1_run, killed) = runs
    assert v1_run == [v1_run[0], "1", "True", str(n), "True", str(n), "True"]
    # the killed run wrote no snapshot and is not taken for finished (no count, no end, no PSI)
    assert killed == [killed[0], "2", "True", "0", "False", "0", "False"]

    # the next worker fails the dead worker's task; a new run (the next day's, or asked again)
    started = _xinrong(env, "worker", "--batch", "--no-startup-delay", "--no-reload", "-v", "0")
    assert "1 task(s) of dead workers failed" in started.stdout, started.stdout
    _shell(env, ENQUEUE_RESCORE)
    _xinrong(env, "worker", "--batch", "--no-startup-delay", "--no-reload", "-v", "0")
    entities, versions, runs, tasks = _score_state(env)
    assert entities == [str(n), str(n), "0"]
    assert versions == ["2"]
    assert tasks == "FAILED,SUCCESSFUL"
    assert runs[:2] == [v1_run, killed]
    (new,) = runs[2:]
    assert new == [new[0], "2", "True", str(n), "True", str(n), "True"]
