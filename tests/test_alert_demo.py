"""`make demo`'s alerts: the Support phone has rules, and what the worker sends shows up on
its Alerts page (the outbox a newcomer opens)."""

from __future__ import annotations

import httpx
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from dashboard.alerts import delivery, rules
from dashboard.alerts.models import AlertRule, Delivery, DeliveryState
from dashboard.lines.models import Line
from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient
from dashboard.smsmobileapi.demo import DemoUpstream


def test_the_demo_line_alerts_land_in_its_outbox(db, settings, client):
    settings.DEMO_MODE = True
    now = timezone.now()
    upstream = DemoUpstream(clock=lambda: now)
    api = SmsMobileApiClient(conf.DEMO_BASE_URL, transport=httpx.WSGITransport(app=upstream))
    previous = conf.set_client(api)
    try:
        call_command("setup_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        line = Line.objects.get(label="Support phone")
        assert set(AlertRule.objects.filter(line=line).values_list("kind", flat=True)) == {
            "waiting",
            "spike",
            "digest",
        }
        assert rules.evaluate_all(now=now) >= 1
        for item in Delivery.objects.filter(alert__line=line):
            delivery.attempt(item.pk)
    finally:
        conf.set_client(previous)
        api.close()
    sent = Delivery.objects.filter(state=DeliveryState.SENT)
    assert sent.exists() and mail.outbox and mail.outbox[0].to == ["demo@example.com"]
    client.login(username="demo", password="demo")
    html = client.get(reverse("line-alerts", kwargs={"line_id": line.pk})).content.decode()
    assert escape(sent.first().subject) in html
    # Running setup_demo again adds nothing.
    call_command("setup_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert AlertRule.objects.filter(line=line).count() == 3
