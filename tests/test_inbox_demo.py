"""`make demo`'s inbox: the Support phone has callers claimed, overdue and called back."""

from __future__ import annotations

import httpx
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dashboard.inbox.models import CallerStatus, Episode
from dashboard.lines.models import Line
from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient
from dashboard.smsmobileapi.demo import DemoUpstream


def test_the_demo_inbox_is_a_team_at_work(db, settings, client):
    settings.DEMO_MODE = True
    now = timezone.now()
    upstream = DemoUpstream(clock=lambda: now)
    api = SmsMobileApiClient(conf.DEMO_BASE_URL, transport=httpx.WSGITransport(app=upstream))
    previous = conf.set_client(api)
    try:
        call_command("setup_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        line = Line.objects.get(label="Support phone")
        episodes = Episode.objects.filter(line=line)
        assert episodes.filter(status=CallerStatus.OPEN, owner__username="demo").count() == 2
        assert episodes.filter(status=CallerStatus.OPEN, owner__username="alex").count() >= 1
        assert episodes.filter(status=CallerStatus.OPEN, due_at__lt=now).exists()  # overdue
        assert episodes.filter(status=CallerStatus.CALLED_BACK).exists()
        assert episodes.filter(status=CallerStatus.REACHED).exists()
        assert episodes.filter(status=CallerStatus.HANDLED, note="Answered by e-mail").exists()
        client.login(username="demo", password="demo")
        html = client.get(reverse("line-inbox", kwargs={"line_id": line.pk})).content.decode()
        assert 'class="overdue"' in html and ">alex<" in html
        before = episodes.count()
        call_command("setup_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert episodes.count() == before  # running it again adds nothing
    finally:
        conf.set_client(previous)
        api.close()
