"""Each response carries its request id; a proxy's well-formed id is kept, a bad one replaced."""

from __future__ import annotations

import logging

import pytest

from xinrong.common.requestid import RequestIdFilter, current_request_id, new_request_id


@pytest.mark.django_db
def test_every_response_carries_a_fresh_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


@pytest.mark.django_db
def test_the_proxys_id_is_kept_and_a_malformed_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="nginx-0123456789abcdef")["X-Request-ID"] == (
        "nginx-0123456789abcdef"
    )
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\r\nX-Evil: 1")["X-Request-ID"]
    assert replaced != "bad id\r\nX-Evil: 1" and len(replaced) == 32


def test_outside_a_request_the_id_is_empty_and_log_records_get_it():
    assert current_request_id() == ""
    assert new_request_id("short") != "short"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert RequestIdFilter().filter(record) and record.request_id == ""
