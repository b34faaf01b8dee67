"""The worker as its own process delivers through a real SMTP server and a real HTTP
receiver; killed with SIGKILL in the middle of a send and restarted, the alert is not
sent twice and its outcome shows as unknown."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.alerts.models import Delivery, DeliveryState, DestinationKind
from tests.alerting import (
    CHAT_PASSWORD,
    CHAT_TOKEN,
    chat_destination,
    destination,
    spike_alert,
    spike_rule,
)
from tests.receivers import http_receiver, smtp_server
from tests.workers import start_worker, wait_for, worker_env

PUBLIC_URL = "https://intranet.example.com/calls"


def state_of(pk: int) -> str:
    return Delivery.objects.get(pk=pk).state


@pytest.fixture
def receiver():
    with http_receiver() as receiver:
        yield receiver


def test_the_worker_process_sends_mail_and_chat(transactional_db, line, receiver, tmp_path):
    with smtp_server() as (mailbox, smtp_port):
        env = worker_env(tmp_path, EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}", PUBLIC_URL=PUBLIC_URL)
        mail = destination(line, DestinationKind.EMAIL, "team@example.com")
        chat = chat_destination(line, receiver.port, language="ja")
        alert = spike_alert(spike_rule(line, mail, chat), count=4)
        worker = start_worker(env, tmp_path / "worker.log")
        try:
            wait_for(
                lambda: set(alert.deliveries.values_list("state", flat=True)) == {"sent"},
                60,
                "both deliveries sent",
            )
        finally:
            worker.stop()
        assert len(mailbox.messages) == 1
        assert mailbox.messages[0]["Subject"] == "Support phone: 4 missed calls in 10 minutes"
    assert len(receiver.requests) == 1
    assert receiver.requests[0]["title"] == "Support phone: 10分間に不在着信 4件"
    assert f"{PUBLIC_URL}/lines/{line.pk}/missed/" in receiver.requests[0]["message"]
    log = worker.log_text()
    assert "alert delivery" in log  # the worker did log its sends
    assert CHAT_TOKEN not in log and CHAT_PASSWORD not in log


def test_a_worker_killed_mid_send_never_sends_twice_and_the_outcome_is_unknown(
    transactional_db, line, receiver, tmp_path
):
    env = worker_env(tmp_path, PUBLIC_URL=PUBLIC_URL, ALERTS_SEND_TIMEOUT="2")
    chat = chat_destination(line, receiver.port)
    alert = spike_alert(spike_rule(line, chat))
    item = alert.deliveries.get()
    receiver.released.clear()  # the receiver holds the request: the send is in flight

    first = start_worker(env, tmp_path / "worker-1.log")
    try:
        assert receiver.arrived.wait(60), first.log_text()[-2000:]
        # Recorded before the send: the database says "sending" while the request is held.
        assert state_of(item.pk) == DeliveryState.SENDING
    finally:
        first.kill()  # SIGKILL: no chance to record anything
    receiver.released.set()  # the answer goes to a dead socket

    second = start_worker(env, tmp_path / "worker-2.log")
    try:
        wait_for(lambda: state_of(item.pk) == DeliveryState.UNKNOWN, 60, "unknown outcome")
        time.sleep(3)  # several more evaluations and sweeps
    finally:
        second.stop()
    assert len(receiver.requests) == 1
    item.refresh_from_db()
    assert item.state == DeliveryState.UNKNOWN and item.attempts == 1
    logs = first.log_text() + second.log_text()
    assert "outcome unknown" in logs
    assert CHAT_TOKEN not in logs and CHAT_PASSWORD not in logs


def test_two_workers_at_once_deliver_each_alert_exactly_once(
    transactional_db, line, receiver, tmp_path
):
    env = worker_env(tmp_path, PUBLIC_URL=PUBLIC_URL)
    chat = chat_destination(line, receiver.port)
    rule = spike_rule(line, chat)
    start = timezone.now()
    alerts = [spike_alert(rule, now=start - timedelta(minutes=n)) for n in range(12)]
    workers = [start_worker(env, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        wait_for(
            lambda: Delivery.objects.filter(state=DeliveryState.SENT).count() == len(alerts),
            90,
            "every delivery sent",
        )
        time.sleep(2)  # both keep running: any duplicate would arrive now
    finally:
        for worker in workers:
            worker.stop()
    titles = [r["title"] for r in receiver.requests]
    assert len(titles) == len(alerts)
    logs = "".join(w.log_text() for w in workers)
    assert logs.count("sent (attempt 1)") == len(alerts)
