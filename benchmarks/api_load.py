#!/usr/bin/env python3
"""Pages and APIs under load (gunicorn on PostgreSQL, wrk), each beside a bare Django endpoint.

In one run on one server:
  1. creates a PostgreSQL database (``h17_load_bench`` on PG_ADMIN_URL, or --database-url),
     migrates it and seeds it (``xinrong seed --scale demo``, or --scale city);
  2. starts gunicorn on ``xinrong.config.wsgi:application`` on a loopback port with N workers
     (4 threads each, as ``xinrong serve`` does, without the access log) under a settings module
     written to a temporary folder: the production settings plus one *bare* view
     (``/__bench__/bare``, an ``HttpResponse("ok")`` behind the whole middleware stack), so the
     production urls never carry it;
  3. drives each endpoint with ``wrk`` for --seconds (default 10): the enterprise portrait and the
     credit archive (the demo enterprise owner's own), product search (page and API, same
     session), the signed bank API (``GET /api/v1/bank/applications``; every request carries
     its own fresh nonce: a pool of requests is signed just before that run and a wrk Lua
     script hands each thread its own slice, so no nonce is ever sent twice) — and the bare
     endpoint with the same cookies before them.
Prints requests/s, p50 and p99 and each endpoint's ratio to the bare endpoint.

    apt-get install -y wrk
    .venv/bin/python benchmarks/api_load.py                  # --workers 2 --seconds 10 --scale demo
    .venv/bin/python benchmarks/api_load.py --database-url postgres://postgres@127.0.0.1:5432/x
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")

BENCH_SETTINGS = """
from xinrong.config.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
# pages render {% static %} through a manifest (collected below); no compressed copies needed
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
"""

BENCH_URLS = """
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path

from xinrong.config.urls import urlpatterns as production


@login_not_required
def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("__bench__/bare", bare), *production]
"""

# Runs in `xinrong shell`: the demo enterprise owner's session, a bank API key, the URLs to drive.
SETUP = """
from django.test import Client
from django.urls import reverse
from xinrong.accounts.models import User
from xinrong.accounts.services.api_keys import api_key_create
from xinrong.credit.models import CreditProfile
owner = User.objects.get(username="ent_owner")
client = Client()
client.force_login(owner)
admin = User.objects.get(username="bank_admin")
_key, raw = api_key_create(organisation=admin.organisation, name="压测", actor=admin)
uscc = owner.organisation.uscc
assert CreditProfile.objects.filter(entity__uscc=uscc).exists()
print("session", client.cookies["sessionid"].value)
print("apikey", raw)
print("portrait", reverse("credit:portrait", args=[uscc]))
print("archive", reverse("credit:archive", args=[uscc]))
print("search_page", reverse("marketplace:list") + "?q=%E8%B4%B7")
print("search_api", "/api/v1/marketplace/products?q=%E8%B4%B7")
"""

SIGNED_LUA = """
local pool = {}
local threads = {}
local n_threads = 0

function setup(thread)
  n_threads = n_threads + 1
  thread:set("tid", n_threads)
  table.insert(threads, thread)
end

function init(args)
  local step = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % step == tid - 1 then table.insert(pool, line) end
    i = i + 1
  end
  pos = 0
end

function request()
  pos = pos + 1
  local ts, nonce, sig = pool[pos]:match("(%S+) (%S+) (%S+)")
  wrk.headers["X-Xinrong-Timestamp"] = ts
  wrk.headers["X-Xinrong-Nonce"] = nonce
  wrk.headers["X-Xinrong-Signature"] = sig
  return wrk.format("GET", PATH)
end
"""


def _run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def _wrk(
    url: str, *, seconds: int, threads: int, connections: int, headers: dict[str, str], lua=None
) -> dict[str, float]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    if lua is not None:
        script, *args = lua
        cmd += ["-s", script, url, "--", *args]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "total": total,
        "bad": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",  # type: ignore[dict-item]
    }


def _presign(path: str, api_key: str, count: int, out: Path) -> None:
    """Sign ``count`` GET requests of ``path`` ahead of the run, each with its own nonce."""
    from xinrong.accounts import signing

    ts = str(int(time.time()))
    with out.open("w") as fh:
        for _ in range(count):
            nonce = uuid.uuid4().hex
            message = signing.canonical_string(
                method="GET", path=path, timestamp=ts, nonce=nonce, body=b""
            )
            sig = signing.hmac_hex(algorithm=signing.HMAC_SHA256, secret=api_key, message=message)
            fh.write(f"{ts} {nonce} {sig}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--scale", choices=("demo", "city"), default="demo")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--keep", action="store_true", help="keep h17_load_bench afterwards (for --reuse)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="use h17_load_bench as a --keep run left it"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("api_load.py needs wrk: apt-get install -y wrk", file=sys.stderr)
        sys.exit(2)

    tmp = Path(tempfile.mkdtemp(prefix="xinrong-api-load-"))
    (tmp / "bench_settings.py").write_text(BENCH_SETTINGS)
    (tmp / "bench_urls.py").write_text(BENCH_URLS)
    created = ""
    url = args.database_url
    if not url:
        created = "h17_load_bench"
        if not args.reuse:
            subprocess.run(
                ["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {created} WITH (FORCE)"],
                check=True,
            )
            subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {created}"], check=True)
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + created
    env = {
        **os.environ,
        "XINRONG_VAR": str(tmp),
        "SECRET_KEY": "bench-" + "x" * 40,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SETTINGS_MODULE": "xinrong.config.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(tmp)]),
    }
    xr = [sys.executable, "-m", "xinrong.cli"]
    server = None
    try:
        t0 = time.perf_counter()
        if not args.reuse:
            _run([*xr, "migrate", "--noinput", "-v", "0"], env)
            _run([*xr, "seed", "--scale", args.scale], env)
        _run(
            [*xr, "collectstatic", "--noinput", "-v", "0"],
            {**env, "DJANGO_SETTINGS_MODULE": "bench_settings"},
        )
        info = dict(
            line.split(" ", 1)
            for line in _run([*xr, "shell", "-v", "0", "-c", SETUP], env).splitlines()
            if " " in line
        )
        print(f"prepared ({args.scale} seed) in {time.perf_counter() - t0:.0f} s")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "xinrong.config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                "4",
                "--timeout",
                "120",
            ],
            env={**env, "DJANGO_SETTINGS_MODULE": "bench_settings"},
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "gunicorn.log", "w"),  # noqa: SIM115
        )
        cookie = {"Cookie": f"sessionid={info['session']}"}
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/__bench__/bare", timeout=2).read()  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("gunicorn did not start:\n" + (tmp / "gunicorn.log").read_text())
                time.sleep(0.3)
        api_path = "/api/v1/bank/applications"
        targets = [
            ("bare Django endpoint", "/__bench__/bare"),
            ("enterprise portrait", info["portrait"]),
            ("credit archive", info["archive"]),
            ("product search (page)", info["search_page"]),
            ("product search (API)", info["search_api"]),
            ("bank API (signed)", api_path),
        ]
        for name, path in targets[:-1]:  # every page answers 200 before it is measured
            req = urllib.request.Request(base + path, headers=cookie)  # noqa: S310
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
                    if resp.status != 200 or resp.url != base + path:
                        sys.exit(f"{name}: {resp.status} {resp.url}")
            except OSError as exc:
                sys.exit(f"{name} ({path}): {exc}\n{(tmp / 'gunicorn.log').read_text()[-4000:]}")
        results: list[tuple[str, dict[str, float]]] = []
        for name, path in targets:
            lua = None
            headers = dict(cookie)
            if name.startswith("bank"):
                key = info["apikey"]
                headers = {
                    "X-Xinrong-Key": key.split("_", 2)[1],
                    "X-Xinrong-Signature-Method": "HMAC-SHA256",
                }
                pool = tmp / "signed.txt"
                _presign(path, key, 3000 * args.seconds * 4, pool)
                script = tmp / "signed.lua"
                script.write_text(SIGNED_LUA.replace("PATH", repr(path).replace("'", '"')))
                lua = (str(script), str(pool), str(args.threads))
            results.append(
                (
                    name,
                    _wrk(
                        base + path,
                        seconds=args.seconds,
                        threads=args.threads,
                        connections=args.connections,
                        headers=headers,
                        lua=lua,
                    ),
                )
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if created and not args.keep:
            subprocess.run(
                ["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {created} WITH (FORCE)"],
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"gunicorn {args.workers} workers × 4 threads on PostgreSQL ({args.scale} seed); "
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s per endpoint"
    )
    print(f"{'endpoint':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}  ratio")
    bare = results[0][1]
    for name, r in results:
        print(
            f"{name:<24} {r['rps']:9.1f} {r['p50'] * 1000:8.1f} {r['p99'] * 1000:8.1f} "
            f"{r['bad']:8d}  throughput x{r['rps'] / bare['rps']:.3f}, "
            f"p99 x{r['p99'] / bare['p99']:.1f}"
            + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else "")
        )


if __name__ == "__main__":
    main()
