"""One structured log line per request, with a request id and never a key."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from dashboard.ops.requestlog import JsonFormatter
from tests.conftest import make_line


def request_records(caplog):
    return [r for r in caplog.records if r.name == "dashboard.request"]


def test_each_request_logs_one_line_with_line_kind_cache_and_upstream(owner_client, line, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.request")
    response = owner_client.get(
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"}) + "?q=%2B32"
    )
    (record,) = request_records(caplog)
    fields = record.fields
    assert fields["status"] == 200
    assert fields["line_id"] == str(line.pk) and fields["kind"] == "incoming"
    assert fields["user"] == "olivia"
    assert fields["cache"] in {"hit", "miss"}
    assert fields["upstream_outcome"] == "ok" and fields["upstream_ms"] >= 0
    assert fields["request_id"] == response["X-Request-ID"]
    assert "q=" not in json.dumps(fields)  # query strings (phone numbers) stay out


def test_upstream_errors_are_logged_by_code(owner_client, owner, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.request")
    bad = make_line(owner, "demo-invalid")
    owner_client.get(reverse("line-calls", kwargs={"line_id": bad.pk, "kind": "missed"}))
    (record,) = request_records(caplog)
    assert record.fields["upstream_outcome"] == "invalid_apikey"
    assert record.fields["cache"] == "error"
    assert "demo-invalid" not in JsonFormatter().format(record)


def test_a_request_id_from_a_trusted_proxy_is_kept(client, settings, caplog):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    caplog.set_level(logging.INFO, logger="dashboard.request")
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="abc-123", REMOTE_ADDR="10.0.0.5")
    assert response["X-Request-ID"] == "abc-123"
    assert request_records(caplog)[0].fields["request_id"] == "abc-123"


@pytest.mark.parametrize(
    ("remote", "sent"),
    [("192.0.2.1", "abc-123"), ("10.0.0.5", "bad id with spaces"), ("10.0.0.5", "x" * 65)],
)
def test_an_untrusted_or_malformed_request_id_is_replaced(client, settings, remote, sent):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=sent, REMOTE_ADDR=remote)
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


def test_json_format_is_one_object_per_line(owner_client, line, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.request")
    owner_client.get(reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"}))
    (record,) = request_records(caplog)
    line_text = JsonFormatter().format(record)
    assert "\n" not in line_text
    payload = json.loads(line_text)
    assert payload["logger"] == "dashboard.request"
    assert payload["kind"] == "missed" and payload["status"] == 200


def test_the_log_names_the_route_not_a_path_holding_a_phone_number(owner_client, line, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.request")
    owner_client.get(reverse("line-caller", kwargs={"line_id": line.pk, "number": "+32470123456"}))
    (record,) = request_records(caplog)
    assert "470123456" not in JsonFormatter().format(record)
    assert record.fields["path"] == "/lines/<int:line_id>/callers/<str:number>/"


def test_a_page_built_from_several_batches_logs_each_outcome_once(owner_client, line, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.request")
    owner_client.get(reverse("line-timeline", kwargs={"line_id": line.pk}))
    owner_client.get(reverse("line-timeline", kwargs={"line_id": line.pk}))
    first, second = request_records(caplog)
    # "miss,hit": "answered later" reads the incoming chunk the timeline just fetched.
    assert first.fields["cache"].split(",")[0] == "miss" and first.fields["upstream_calls"] >= 3
    assert second.fields["cache"] == "hit" and "upstream_calls" not in second.fields
