"""The live process for real (gunicorn with the uvicorn worker, as make demo runs it): a
delivery reaches an open stream; a reconnect resumes from Last-Event-ID out of the
stored events; access is checked; an idle stream keeps its connection alive."""

from __future__ import annotations

import pytest

from tests.live_servers import Stream, base_env, post_delivery, prepare, running, signed_in
from tests.webhook_helpers import envelope


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    env = base_env(folder, LIVE_HEARTBEAT_SECONDS="1")
    line_id, token = prepare(env)
    with running(env, folder / "processes.log", "--single-port") as instance:
        yield instance, line_id, token


def test_a_delivery_reaches_an_open_stream_on_one_port(demo_like):
    instance, line_id, token = demo_like
    client = signed_in(instance.url)
    page = client.get(f"/lines/{line_id}/missed/")
    assert f'data-stream-url="/lines/{line_id}/live/"' in page.text  # pages on the same port
    stream = Stream(client, f"/lines/{line_id}/live/")
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["x-accel-buffering"] == "no"
        event = envelope("call.missed", number="+32486398674")
        assert post_delivery(instance.url, token, event).status_code == 202
        (got,) = stream.wait_for_event()
        assert (got["kind"], got["number"], got["line"]) == ("missed", "+32486398674", line_id)
        # The row endpoint draws it for this table.
        row = client.get(f"/lines/{line_id}/live/{got['id']}/row/", params={"tab": "missed"})
        assert row.status_code == 200 and "+32 486" in row.text
        # A duplicate delivery (the provider's retry) sends nothing more.
        assert post_delivery(instance.url, token, event).status_code == 200
        second = envelope("call.incoming")
        assert post_delivery(instance.url, token, second).status_code == 202
        assert [e["kind"] for e in stream.wait_for_event(2)] == ["missed", "incoming"]
    finally:
        stream.close()


def test_a_reconnect_resumes_after_the_last_event_id(demo_like):
    instance, line_id, token = demo_like
    first = envelope("call.missed", number="+3225550101")
    assert post_delivery(instance.url, token, first).status_code == 202
    client = signed_in(instance.url)
    seen = Stream(client, f"/lines/{line_id}/live/", headers={"Last-Event-ID": "0"})
    try:
        events = seen.wait_for_event(1)
        last = max(e["id"] for e in events)
    finally:
        seen.close()
    # Delivered while no browser was connected:
    missed = [envelope("call.missed", number=f"+322555020{i}") for i in range(3)]
    for event in missed:
        assert post_delivery(instance.url, token, event).status_code == 202
    client = signed_in(instance.url)
    resumed = Stream(client, f"/lines/{line_id}/live/", headers={"Last-Event-ID": str(last)})
    try:
        got = resumed.wait_for_event(3)
        assert [e["number"] for e in got[:3]] == [e["data"]["number"] for e in missed]
        assert all(e["id"] > last for e in got)
    finally:
        resumed.close()


def test_an_idle_stream_sends_keep_alive_comments(demo_like):
    instance, line_id, _token = demo_like
    client = signed_in(instance.url)
    stream = Stream(client, f"/lines/{line_id}/live/")
    try:
        from tests.workers import wait_for

        wait_for(lambda: ": keep-alive" in stream.lines, 15, "a keep-alive comment")
    finally:
        stream.close()


def test_the_stream_refuses_who_may_not_see_the_line(demo_like):
    import httpx

    instance, line_id, _token = demo_like
    anonymous = httpx.get(f"{instance.url}/lines/{line_id}/live/", timeout=5)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["location"]
    client = signed_in(instance.url)
    assert client.get(f"/lines/{line_id + 1000}/live/").status_code == 404
