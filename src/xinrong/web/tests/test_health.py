"""/healthz: database, task queue and cache checks; 503 naming what failed; no secrets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

pytestmark = pytest.mark.django_db


def test_all_checks_pass_anonymously(client, settings):
    settings.TASKS = DB_TASKS
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and "failed" not in body
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    queue = body["checks"]["queue"]
    assert queue["ok"] is True and queue["backend"] == "database"
    assert queue["ready"] == 0 and queue["oldest_ready_seconds"] == 0
    assert response["Cache-Control"] == "no-store"


def test_an_old_ready_task_fails_the_queue_check(client, settings):
    from django_tasks_db.models import DBTaskResult

    from xinrong.web.health import health_report

    settings.TASKS = DB_TASKS
    settings.XINRONG_HEALTH_QUEUE_MAX_AGE = 300
    from xinrong.marketplace.tasks import demands_sweep

    result = demands_sweep.enqueue()
    row = DBTaskResult.objects.get(id=result.id)
    assert health_report()[0] is True  # fresh: fine
    DBTaskResult.objects.filter(id=row.id).update(
        enqueued_at=timezone.now() - dt.timedelta(seconds=900)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == ["queue"]
    assert body["checks"]["queue"]["ready"] == 1
    assert 899 <= body["checks"]["queue"]["oldest_ready_seconds"] < 1000
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    settings.XINRONG_HEALTH_QUEUE_MAX_AGE = 3600  # the threshold is configurable
    assert client.get("/healthz").status_code == 200


def test_a_broken_cache_is_named_without_details(client, settings, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionError("redis://:s3cret@10.0.0.5:6379/1 refused")

    monkeypatch.setattr(LocMemCache, "set", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
    assert "s3cret" not in response.content.decode()


def test_a_broken_database_is_named(client, monkeypatch):
    from xinrong.web import health

    def down():
        raise RuntimeError("could not connect to server")

    monkeypatch.setitem(health.CHECKS, "database", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


def test_the_replica_is_checked_only_when_configured(client, monkeypatch):
    from xinrong.web import health

    body = client.get("/healthz").json()
    assert body["checks"]["replica"] == {"ok": True, "configured": False}
    # configured, but the alias cannot be reached: named as failed, without its address
    monkeypatch.setattr(health, "replica_configured", lambda: True)
    monkeypatch.setattr(health, "REPLICA", "no_such_replica")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["replica"]
    assert response.json()["checks"]["replica"] == {
        "ok": False,
        "error": "ConnectionDoesNotExist",
    }
