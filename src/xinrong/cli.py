"""The `xinrong` command: serve, seed, check-code, and every Django management command."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

USAGE = """xinrong <command> [options]

  serve [--host H] [--port P] [--workers N] [--no-worker]
                       run the web server, a background task worker and the scheduler
  worker [db_worker options] [--no-recover]
                       recover interrupted ingestion, then run a background task worker
                       (with XINRONG_TASK_BACKEND=rq: an RQ worker, rqworker options)
  backup [--output FILE]   write a backup of the database (and uploaded files)
  restore FILE         restore a backup (stop the web server and workers first)
  seed [--scale demo|city|province] [--seed N]
                       load deterministic demo data (a second run adds nothing)
  check-code CODE      validate a unified social credit code (GB 32100-2015)
  <django command>     any Django management command (migrate, createsuperuser, …)
"""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    import django

    django.setup()


def check_code(code: str) -> int:
    """Print the parts of a USCC, or its exact fault; return the exit status."""
    _setup_django()
    from xinrong.reference import uscc as uscc_codec

    try:
        parsed = uscc_codec.parse(code)
    except uscc_codec.UsccError as exc:
        print(f"无效 INVALID: {exc.message}  [{exc.code}]")
        return 1
    region = parsed.division_name  # an abolished county shows its parent; a warning says why
    print(f"有效 VALID: {parsed.code}")
    print(f"  登记管理部门 (1): {parsed.authority_code} {parsed.authority_name}")
    print(f"  机构类别     (2): {parsed.entity_type_code} {parsed.entity_type_name}")
    print(f"  登记管理机关行政区划码 (3-8): {parsed.division_code} {region}")
    print(f"  主体标识码（组织机构代码） (9-17): {parsed.organisation_code}")
    print(f"  校验码       (18): {parsed.check_char}")
    for warning in parsed.warnings:
        print(f"  警告 WARNING: {warning}")
    return 0


def serve(argv: Sequence[str]) -> int:
    """Run gunicorn and, unless --no-worker, a task worker (`xinrong worker`) beside it."""
    parser = argparse.ArgumentParser(prog="xinrong serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-worker", action="store_true", help="do not start a task worker")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    bindir = os.path.dirname(sys.executable)
    children: list[subprocess.Popen[bytes]] = []
    if not args.no_worker:
        # `worker` = db_worker after recovering what a killed worker left (docs/security.md)
        children.append(subprocess.Popen([sys.executable, "-m", "xinrong.cli", "worker"]))
        # periodic sweeps (demand holds, service levels, overdue loans, dispute deadlines)
        children.append(subprocess.Popen([sys.executable, "-m", "xinrong.cli", "schedule"]))
    gunicorn = os.path.join(bindir, "gunicorn")
    web = subprocess.Popen(  # noqa: S603
        [
            gunicorn,
            "xinrong.config.wsgi:application",
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            "4",
            # JSON logs carry their own access lines (xinrong.access); plain logs take gunicorn's
            *(
                []
                if os.environ.get("XINRONG_LOG_FORMAT", "").strip().lower() == "json"
                else ["--access-logfile", "-"]
            ),
            "--timeout",
            "120",
            # A long search must reach Django, which answers with its Chinese 414 page
            # (XINRONG_MAX_QUERY_STRING), not gunicorn's bare "Request Line is too large": gunicorn
            # caps a request line at 8190 bytes unless the limit is 0 (none). Header fields (a
            # long Referer carrying such a search) may be 32 KiB.
            "--limit-request-line",
            os.environ.get("XINRONG_LIMIT_REQUEST_LINE", "0"),
            "--limit-request-field_size",
            os.environ.get("XINRONG_LIMIT_REQUEST_FIELD_SIZE", "32768"),
        ]
    )
    children.append(web)
    _print_demo_logins(args.host, args.port)

    def stop(signum: int, frame: object) -> None:
        for child in children:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = web.wait()
    for child in children:
        child.terminate()
        child.wait()
    return status


def _print_demo_logins(host: str, port: int) -> None:
    try:
        _setup_django()
        from xinrong.web.seed import DEMO_PASSWORD, demo_logins

        logins = demo_logins()
    except Exception:
        logins = []
    print(f"\n信融 xinrong 已启动: http://{host}:{port}/   (Ctrl+C 停止)")
    if logins:
        print(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for role, username in logins:
            print(f"  {role:<16} {username}")
    print(flush=True)


def rq_worker(argv: Sequence[str]) -> int:
    """Recover interrupted ingestion (unless --no-recover), then run an RQ worker for the
    django-tasks RQ backend (its job class, the scheduler for deferred tasks on)."""
    args = list(argv)
    recover = "--no-recover" not in args
    args = [arg for arg in args if arg != "--no-recover"]
    _setup_django()
    if recover:
        from xinrong.datahub.services.recovery import ingest_recover

        report = ingest_recover()
        print(
            f"recovery: {report.restarted} batch(es) restarted, {report.failed} failed, "
            f"{report.files_deleted} orphan upload(s) deleted",
            flush=True,
        )
    from django.core.management import execute_from_command_line

    defaults = ["--job-class", "django_tasks_rq.Job"]
    if "--with-scheduler" not in args:
        defaults.append("--with-scheduler")
    execute_from_command_line(["xinrong", "rqworker", *defaults, *args])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch a `xinrong` subcommand."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    command, rest = args[0], args[1:]
    if command == "check-code":
        if len(rest) != 1:
            print("用法 usage: xinrong check-code CODE", file=sys.stderr)
            return 2
        return check_code(rest[0])
    if command == "serve":
        return serve(rest)
    if command == "worker" and os.environ.get("XINRONG_TASK_BACKEND", "").strip().lower() == "rq":
        return rq_worker(rest)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xinrong", command, *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
