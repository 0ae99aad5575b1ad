"""The periodic jobs: due-time logic and the inline run that cron uses."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from xinrong.web.schedule import jobs, run_due


def test_every_job_runs_at_start_then_only_when_its_interval_passed(settings):
    settings.XINRONG_SWEEP_MINUTES = 60
    last: dict[str, float] = {}
    enqueued: list[str] = []
    first = run_due(last, now=0.0, enqueue=lambda j: enqueued.append(j.name))
    assert set(first) == {j.name for j in jobs()}
    # ingestion recovery, and the flush and drain whose request was lost, run every 15
    # minutes at most, whatever the sweep interval
    assert run_due(last, now=59 * 60, enqueue=lambda j: enqueued.append(j.name)) == [
        "ingest_recover",
        "platform_events_flush",
        "rescore_drain",
    ]
    hourly = run_due(last, now=60 * 60, enqueue=lambda j: enqueued.append(j.name))
    assert set(hourly) == {
        "demands_sweep",
        "applications_sweep",
        "deadlines_remind",
        "policy_match",
        "riskfund_breaker",
        "statistics_refresh",
    }
    daily = run_due(last, now=24 * 3600, enqueue=lambda j: enqueued.append(j.name))
    assert {"disputes_escalate", "api_replay_purge", "profiles_refresh", "credit_lists"} <= set(
        daily
    )


@pytest.mark.django_db
def test_sweep_command_runs_every_job_inline(capsys):
    call_command("sweep")
    out = capsys.readouterr().out
    for job in jobs():
        assert f"{job.name}:" in out


@pytest.mark.django_db
def test_hourly_sweep_leaves_out_the_daily_jobs(capsys):
    call_command("sweep", "--hourly")
    out = capsys.readouterr().out
    assert "demands_sweep:" in out and "applications_sweep:" in out
    assert "profiles_refresh:" not in out and "disputes_escalate:" not in out
