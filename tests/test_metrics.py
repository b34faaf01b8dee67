"""The Prometheus endpoint: off without a token, bearer-protected, counting upstream calls."""

from __future__ import annotations

import re

from django.urls import reverse


def scrape(client, token="s3cret-metrics"):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def sample(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{label_text}\}} ([0-9.e+]+)$", text, flags=re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_are_disabled_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404


def test_metrics_need_the_bearer_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    assert scrape(client, "wrong").status_code == 401


def test_metrics_count_upstream_calls_and_cache_results(owner_client, line, settings, client):
    settings.METRICS_TOKEN = "s3cret-metrics"
    before = scrape(client).content.decode()
    owner_client.get(reverse("line-calls", kwargs={"line_id": line.pk, "kind": "outgoing"}))
    after = scrape(client).content.decode()
    name = "calls_dashboard_upstream_requests_total"
    assert (
        sample(after, name, kind="outgoing", outcome="ok")
        == sample(before, name, kind="outgoing", outcome="ok") + 1
    )
    assert "calls_dashboard_upstream_request_seconds_bucket" in after
    assert "calls_dashboard_cache_results_total" in after
    assert "demo-support" not in after
