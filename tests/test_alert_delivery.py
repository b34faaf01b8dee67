"""Delivering one alert: a real SMTP server and a real HTTP receiver, the state recorded
before and after each send, retries with back-off, the failing-destination state, the
audit trail, and no token anywhere but the request that carries it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.alerts import delivery
from dashboard.alerts.models import Delivery, DeliveryState, DestinationKind
from dashboard.lines.models import AuditAction, AuditEvent
from tests.alerting import (
    CHAT_PASSWORD,
    CHAT_TOKEN,
    chat_destination,
    destination,
    spike_alert,
    spike_rule,
)
from tests.conftest import SUPPORT_KEY
from tests.receivers import http_receiver, smtp_server


@pytest.fixture
def smtp(settings):
    with smtp_server() as (mailbox, port):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
            }
        }
        yield mailbox


@pytest.fixture
def receiver():
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture(autouse=True)
def _alert_settings(settings):
    settings.PUBLIC_URL = "https://intranet.example.com/calls"
    settings.ALERTS_SEND_TIMEOUT = 5
    settings.ALERTS_RETRY_SECONDS = 30
    settings.ALERTS_MAX_ATTEMPTS = 4


def test_an_alert_goes_by_mail_and_to_chat_once_each_in_the_recipients_language(
    line, smtp, receiver
):
    mail = destination(line, DestinationKind.EMAIL, "team@example.com", language="ja")
    chat = chat_destination(line, receiver.port)
    alert = spike_alert(spike_rule(line, mail, chat), count=5)
    for item in alert.deliveries.all():
        assert delivery.attempt(item.pk) == DeliveryState.SENT
        # A second job for the same delivery (a retried or duplicated job) sends nothing.
        assert delivery.attempt(item.pk) == DeliveryState.SENT

    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["X-Envelope-To"] == "team@example.com"
    body = message.get_payload(decode=True).decode()
    assert "10分間に不在着信 5件" in body  # Japanese, as the destination asks
    assert f"https://intranet.example.com/calls/lines/{line.pk}/missed/" in body

    assert len(receiver.requests) == 1
    posted = receiver.requests[0]
    assert posted["title"] == "Support phone: 5 missed calls in 10 minutes"
    assert f"https://intranet.example.com/calls/lines/{line.pk}/missed/" in posted["message"]
    assert receiver.paths == [f"/hooks/{CHAT_TOKEN}"]
    # Never the line's API key, in any message.
    assert SUPPORT_KEY not in body and SUPPORT_KEY not in str(posted)

    states = set(alert.deliveries.values_list("state", flat=True))
    assert states == {DeliveryState.SENT}
    events = AuditEvent.objects.filter(line_ref=line.pk, action=AuditAction.ALERT_SENT)
    assert events.count() == 2
    summaries = " ".join(e.summary for e in events)
    assert "team@example.com" in summaries and "json://…" in summaries
    assert CHAT_TOKEN not in summaries and CHAT_PASSWORD not in str(list(events.values()))


def test_a_failing_destination_retries_with_back_off_then_shows_failing_without_its_token(
    line, receiver, caplog
):
    caplog.set_level(logging.DEBUG)
    receiver.status = 500
    chat = chat_destination(line, receiver.port)
    alert = spike_alert(spike_rule(line, chat))
    item = alert.deliveries.get()
    now = timezone.now()
    delays = []
    for attempt_number in range(1, 5):
        state = delivery.attempt(item.pk, now=now)
        item.refresh_from_db()
        chat.refresh_from_db()
        assert item.attempts == attempt_number
        if attempt_number < 4:
            assert state == DeliveryState.RETRYING
            delays.append(round((item.next_attempt_at - now).total_seconds() / 30))
            # Not before its time: a job that runs early sends nothing.
            assert delivery.attempt(item.pk, now=now) == "not yet"
            now = item.next_attempt_at
        else:
            assert state == DeliveryState.FAILED
    assert len(receiver.requests) == 4
    assert delays == [1, 2, 4]  # 30 s, 60 s, 120 s: doubling
    assert chat.is_failing and chat.failures == 4
    assert "500" in chat.last_error
    assert AuditEvent.objects.filter(action=AuditAction.ALERT_FAILED).count() == 1
    # A retry job was queued for each failure but the last.
    assert DBTaskResult.objects.filter(task_path="dashboard.alerts.tasks.deliver").count() == 1 + 3

    everything = caplog.text + chat.last_error + item.last_error
    assert CHAT_TOKEN not in everything and CHAT_PASSWORD not in everything

    # Sent again by hand once the service is back: sent, and the destination recovers.
    receiver.status = 200
    delivery.send_again(item, line.owner)
    assert delivery.attempt(item.pk) == DeliveryState.SENT
    chat.refresh_from_db()
    assert chat.failures == 0 and not chat.is_failing


def test_an_unreachable_destination_does_not_hold_back_the_others(line, smtp, receiver):
    with http_receiver() as dead:
        dead_port = dead.port
    broken = chat_destination(line, dead_port)  # nothing listens there any more
    mail = destination(line, DestinationKind.EMAIL, "team@example.com")
    chat = chat_destination(line, receiver.port)
    alert = spike_alert(spike_rule(line, broken, mail, chat))
    results = {d.destination_id: delivery.attempt(d.pk) for d in alert.deliveries.all()}
    assert results == {
        broken.pk: DeliveryState.RETRYING,
        mail.pk: DeliveryState.SENT,
        chat.pk: DeliveryState.SENT,
    }
    broken.refresh_from_db()
    assert "connection" in broken.last_error.lower()
    assert str(dead_port) not in broken.last_error
    assert "127.0.0.1" not in broken.last_error


def test_a_destination_that_never_answers_is_cut_off_at_the_send_timeout(
    line, smtp, receiver, settings
):
    settings.ALERTS_SEND_TIMEOUT = 1
    with http_receiver() as silent:
        silent.released.clear()  # takes the request and never answers
        hanging = chat_destination(line, silent.port)
        mail = destination(line, DestinationKind.EMAIL, "team@example.com")
        alert = spike_alert(spike_rule(line, hanging, mail))
        results = {d.destination_id: delivery.attempt(d.pk) for d in alert.deliveries.all()}
        assert silent.arrived.is_set()
    assert results == {hanging.pk: DeliveryState.RETRYING, mail.pk: DeliveryState.SENT}


def test_a_send_whose_worker_vanished_is_unknown_and_never_sent_again(line, receiver):
    chat = chat_destination(line, receiver.port)
    alert = spike_alert(spike_rule(line, chat))
    item = alert.deliveries.get()
    # What a worker killed mid-send leaves: "sending", lease running.
    Delivery.objects.filter(pk=item.pk).update(
        state=DeliveryState.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=60)
    )
    assert delivery.attempt(item.pk) == "busy"  # maybe still sending: leave it alone
    later = timezone.now() + timedelta(seconds=61)
    assert delivery.sweep(now=later)["unknown"] == 1
    item.refresh_from_db()
    assert item.state == DeliveryState.UNKNOWN
    assert delivery.attempt(item.pk) == DeliveryState.UNKNOWN
    assert delivery.sweep(now=later)["requeued"] == 0
    assert receiver.requests == []
    assert AuditEvent.objects.filter(action=AuditAction.ALERT_UNKNOWN).count() == 1


def test_a_delivery_whose_job_was_lost_is_queued_again_by_the_sweep(line, receiver, settings):
    chat = chat_destination(line, receiver.port)
    alert = spike_alert(spike_rule(line, chat))
    DBTaskResult.objects.all().delete()  # the job row lost, the delivery still pending
    later = timezone.now() + timedelta(seconds=6 * settings.ALERTS_EVALUATE_SECONDS)
    assert delivery.sweep(now=later)["requeued"] == 1
    assert DBTaskResult.objects.filter(task_path="dashboard.alerts.tasks.deliver").count() == 1
    assert alert.deliveries.get().state == DeliveryState.PENDING


def test_a_team_members_mail_says_why_and_how_to_stop_it(line, smtp, shared_user):
    shared_user.email = "sam@example.com"
    shared_user.save()
    alert = spike_alert(spike_rule(line, members=True))
    item = alert.deliveries.get()
    assert item.user == shared_user
    assert delivery.attempt(item.pk) == DeliveryState.SENT
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "You get this because you can see the line “Support phone”" in body
    assert f"https://intranet.example.com/calls/lines/{line.pk}/alerts/" in body


def test_without_email_url_an_email_delivery_fails_and_says_so(line, settings):
    settings.MAILERS = {"default": {"BACKEND": "dashboard.alerts.mail.NotConfiguredBackend"}}
    mail = destination(line, DestinationKind.EMAIL, "team@example.com")
    item = spike_alert(spike_rule(line, mail)).deliveries.get()
    assert delivery.attempt(item.pk) == DeliveryState.RETRYING
    item.refresh_from_db()
    assert "EMAIL_URL" in item.last_error
