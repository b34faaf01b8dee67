"""make demo's pushing provider: setup_demo gives the realistic demo lines a webhook
secret, and deliver_demo_webhooks signs and posts a realistic new call that the receiver
accepts. Only in demo mode; the tests never start it as a process."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import CommandError, call_command

from dashboard.lines.models import Line
from dashboard.smsmobileapi.demo.data import visible_calls
from dashboard.webhooks import effects
from dashboard.webhooks.management.commands.deliver_demo_webhooks import parse_every
from dashboard.webhooks.models import WebhookEndpoint, WebhookEvent


@pytest.fixture
def demo(settings, transactional_db):
    settings.DEMO_MODE = True
    settings.SMSMOBILEAPI_BASE_URL = "demo"
    call_command("setup_demo", stdout=io.StringIO())


def test_setup_demo_gives_the_realistic_lines_a_webhook_secret(demo):
    with_secret = {
        e.line.label for e in WebhookEndpoint.objects.select_related("line") if e.has_secret
    }
    assert with_secret == {"Support phone", "Sales mobile"}
    call_command("setup_demo", stdout=io.StringIO())  # again: the secrets stay as they are
    assert WebhookEndpoint.objects.exclude(encrypted_secret="").count() == 2


def test_a_demo_delivery_is_signed_accepted_and_a_usual_caller(demo, live_server, monkeypatch):
    # The receiver's effects run on the server's thread after the 202 has reached the
    # command: wait for them, or the test's database teardown races their transaction.
    effects_done = threading.Event()
    drain = effects.drain

    def tracked(*args, **kwargs):
        try:
            drain(*args, **kwargs)
        finally:
            effects_done.set()

    monkeypatch.setattr(effects, "drain", tracked)
    to = live_server.url.removeprefix("http://")
    call_command("deliver_demo_webhooks", "--to", to, "--once", stdout=io.StringIO())
    assert effects_done.wait(timeout=30), "the delivery's effects never ran"
    event = WebhookEvent.objects.get()
    assert event.type in ("call.missed", "call.incoming", "call.outgoing")
    key = Line.objects.get(pk=event.line_id).get_api_key()
    callers = {c.number for c in visible_calls(key, None, event.received_at)[:300]}
    assert event.call["number"] in callers
    assert WebhookEndpoint.objects.get(line_id=event.line_id).accepted_count == 1


def test_it_refuses_to_run_outside_the_demo(settings, db):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="only in the demo"):
        call_command("deliver_demo_webhooks", "--once")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("30-60", (30.0, 60.0)), ("45", (45.0, 45.0)), ("off", None), ("0", None)],
)
def test_the_interval_setting(raw, expected):
    assert parse_every(raw) == expected


@pytest.mark.parametrize("raw", ["60-30", "-5", "soon", "10-x"])
def test_a_bad_interval_is_refused(raw):
    with pytest.raises(ValueError):
        parse_every(raw)
