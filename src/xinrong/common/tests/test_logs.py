"""Structured logs: JSON lines with Beijing time and the request id; one access line a request."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xinrong.common.logs import JsonLinesFormatter
from xinrong.common.requestid import RequestIdFilter


def _record(message: str = "导入完成 %s 行", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("xinrong.datahub", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_record_is_one_json_line_in_beijing_time():
    record = _record("导入完成 %s 行\n第二行", 12, request_id="abc12345")
    line = JsonLinesFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["time"].endswith("+08:00")
    assert data["level"] == "WARNING" and data["logger"] == "xinrong.datahub"
    assert data["message"] == "导入完成 12 行\n第二行"
    assert data["request_id"] == "abc12345"
    assert "method" not in data  # only the fields a record has


def test_an_exception_is_inside_the_line():
    try:
        raise ValueError("坏数据")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    data = json.loads(JsonLinesFormatter().format(record))
    assert "ValueError: 坏数据" in data["exception"]


@pytest.mark.django_db
def test_each_request_logs_one_access_line_with_its_id_and_user(client, operator, caplog):
    handler_filter = RequestIdFilter()
    caplog.handler.addFilter(handler_filter)
    caplog.set_level(logging.INFO, logger="xinrong.access")
    client.force_login(operator)
    response = client.get("/healthz?q=secret-search", HTTP_X_REQUEST_ID="req-0123456789")
    access = [r for r in caplog.records if r.name == "xinrong.access"]
    assert len(access) == 1
    data = json.loads(JsonLinesFormatter().format(access[0]))
    assert data["request_id"] == "req-0123456789" == response["X-Request-ID"]
    assert data["method"] == "GET" and data["path"] == "/healthz" and data["status"] == 200
    assert data["user_id"] == operator.pk
    assert isinstance(data["duration_ms"], float) and data["duration_ms"] >= 0
    assert "secret-search" not in json.dumps(data)  # query strings are never logged


@pytest.mark.parametrize("fmt", ["json", "plain"])
def test_the_switch_picks_the_format(fmt, tmp_path):
    code = (
        "import logging, django; django.setup(); "
        "logging.getLogger('xinrong.probe').warning('你好'); "
        "logging.getLogger('xinrong.access').info('GET / 200')"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "DJANGO_SETTINGS_MODULE": "xinrong.config.settings",
        "XINRONG_VAR": str(tmp_path),
        "SECRET_KEY": "log-test",
        "XINRONG_LOG_FORMAT": fmt,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    lines = done.stderr.strip().splitlines()
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        assert [r["message"] for r in records] == ["你好", "GET / 200"]
        assert records[0]["logger"] == "xinrong.probe" and records[0]["time"].endswith("+08:00")
    else:
        assert len(lines) == 1 and lines[0].endswith("WARNING xinrong.probe []: 你好")
