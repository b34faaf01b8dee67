"""The live key check: which requests it sends and what each answer means."""

from __future__ import annotations

import httpx
import pytest

from dashboard.lines.key_check import check_api_key
from dashboard.lines.models import KeyStatus
from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient


@pytest.mark.parametrize(
    ("key", "status", "paths"),
    [
        ("demo-support", KeyStatus.VALID, ["missed", "incoming"]),
        ("demo-empty", KeyStatus.VALID, ["missed", "incoming"]),
        ("demo-invalid", KeyStatus.REJECTED, ["missed"]),
        ("not-a-demo-key", KeyStatus.REJECTED, ["missed"]),
        ("demo-expired", KeyStatus.EXPIRED, ["missed", "incoming"]),
        ("demo-failing", KeyStatus.UNREACHABLE, ["missed", "incoming"]),
        ("demo-ratelimited", KeyStatus.UNREACHABLE, ["missed", "incoming"]),
        ("demo-broken", KeyStatus.UNREACHABLE, ["missed", "incoming"]),
        ("demo-truncated", KeyStatus.UNREACHABLE, ["missed", "incoming"]),
    ],
)
def test_each_answer_maps_to_a_status(demo_upstream, key, status, paths):
    result = check_api_key(key)
    assert result.status == status
    assert result.saves is (status != KeyStatus.REJECTED)
    assert [(r.path, r.params["limit"]) for r in demo_upstream.recorded()] == [
        (f"/call/{kind}/list/", "1") for kind in paths
    ]


def _client_answering(handler) -> SmsMobileApiClient:
    return SmsMobileApiClient("http://upstream", transport=httpx.MockTransport(handler))


def test_a_provider_error_on_missed_calls_is_settled_by_incoming_calls():
    def handler(request):
        if "missed" in request.url.path:
            return httpx.Response(500, json={"success": False, "error": "server_error"})
        return httpx.Response(200, json={"success": True, "rows": []})

    previous = conf.set_client(_client_answering(handler))
    try:
        assert check_api_key("demo-whatever").status == KeyStatus.VALID
    finally:
        conf.set_client(previous).close()


def test_a_timeout_stops_after_the_first_family():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        raise httpx.ReadTimeout("slow", request=request)

    previous = conf.set_client(_client_answering(handler))
    try:
        result = check_api_key("demo-whatever")
    finally:
        conf.set_client(previous).close()
    assert (result.status, result.code) == (KeyStatus.UNREACHABLE, "timeout")
    assert seen == ["/call/missed/list/"]
    assert "could not be checked" in result.message
