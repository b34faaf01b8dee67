"""The benchmark's inbox lines (bench/upstream.py `backlog_history`): what the provider
holds for them, and that one first view of such a line files and lists every caller, so
the figure `make bench` reports is for the whole backlog. No timing here."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from bench.upstream import backlog_history, backlog_number
from dashboard.inbox.models import CallerStatus, Episode
from dashboard.smsmobileapi.demo import DemoUpstream

ANCHOR = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
PATHS = {"missed": "/call/missed/list/", "incoming": "/call/incoming/list/"}
PATHS["outgoing"] = "/call/outgoing/list/"


def listed(app: DemoUpstream, key: str, kind: str) -> list[dict]:
    """Every row of `kind` for `key`, page by page at the endpoint's largest limit."""
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://demo")
    limit = 500 if kind == "missed" else 200
    rows: list[dict] = []
    while True:
        body = client.get(
            PATHS[kind], params={"apikey": key, "offset": len(rows), "limit": limit}
        ).json()
        page = body.get("data") or body.get("rows") or []
        rows += page
        if len(page) < limit:
            return rows


def test_a_backlog_key_holds_missed_calls_from_distinct_callers_nobody_calls_back():
    app = DemoUpstream(clock=lambda: ANCHOR, history=backlog_history(120, ANCHOR))

    missed = listed(app, "demo-backlog-3", "missed")
    contacts = [
        r["phone_number"]
        for kind in ("incoming", "outgoing")
        for r in listed(app, "demo-backlog-3", kind)
    ]

    assert len(missed) == 120
    assert len({r["number"] for r in missed}) == 120
    assert missed[0]["number"] == backlog_number(3, 0) == "+32460030000"
    assert missed[-1]["date"] == (ANCHOR - timedelta(minutes=40 * 120)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert len(contacts) > 600  # a busy line: more than one sync reads of each kind
    assert not {r["number"] for r in missed} & set(contacts)
    # Other keys keep the generated demo history.
    assert listed(app, "demo-support", "incoming")
    assert not any(r["number"].startswith("+32460") for r in listed(app, "demo-support", "missed"))


@pytest.fixture
def demo_upstream() -> DemoUpstream:
    # The conftest's upstream, with the benchmark's backlog lines, on the real clock: the
    # inbox files missed calls of the last 30 days from now.
    return DemoUpstream(record_requests=True, history=backlog_history(500, timezone.now()))


def test_the_first_view_of_a_backlog_line_files_and_lists_all_500_callers(
    owner_client, owner, demo_upstream
):
    from tests.conftest import make_line

    line = make_line(owner, "demo-backlog-0")
    line.default_region = "BE"
    line.save()

    response = owner_client.get(reverse("line-inbox", kwargs={"line_id": line.pk}))

    assert response.status_code == 200
    assert "(500) Missed calls" in response.content.decode()
    assert Episode.objects.filter(line=line, status=CallerStatus.OPEN).count() == 500
    # Three chunks of 200 of each kind: missed to the end of the backlog, incoming and
    # outgoing as deep as a sync goes.
    sent = Counter(path for path, _ in demo_upstream.sent())
    assert sent == {"/call/missed/list/": 3, "/call/incoming/list/": 3, "/call/outgoing/list/": 3}
