"""A task for the scale-out test (test_rq_workers): it writes one row naming its process."""

from __future__ import annotations

import os
import time

from django.db import connection
from django_tasks import task


@task()
def probe_write(n: int, delay: float) -> int:
    """Wait ``delay`` seconds (so both workers get work), then record ``n`` and this process."""
    time.sleep(delay)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ops_probe (n, pid, ppid) VALUES (%s, %s, %s)",
            [n, os.getpid(), os.getppid()],
        )
    return n
