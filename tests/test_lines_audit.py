"""The audit page: the owner sees every change and who opened the calls."""

from __future__ import annotations

import re
import time

from django.test import Client
from django.urls import reverse

from dashboard.lines import audit
from dashboard.lines.models import AccessLogEntry, AuditAction, AuditEvent


def url(line) -> str:
    return reverse("line-audit", args=[line.pk])


def test_the_owner_sees_changes_with_who_and_what(owner_client, line, stranger):
    owner_client.post(reverse("line-share", args=[line.pk]), {"username": "mallory"})
    owner_client.post(reverse("line-settings", args=[line.pk]), {"label": "Front desk"})
    owner_client.post(reverse("line-key", args=[line.pk]), {"api_key": "demo-n3w-key-1234"})
    html = owner_client.get(url(line)).content.decode()
    for text in (
        "Shared with a person",
        "mallory",
        "Renamed",
        "“Support phone” → “Front desk”",
        "Replaced the API key",
        "…port → …1234",
        "check: Valid",
        "olivia",
    ):
        assert text in html, text
    assert "demo-n3w-key-1234" not in html and "demo-support" not in html


def test_opening_calls_is_logged_once_per_user_line_and_kind_per_interval(client, line, group_user):
    client.force_login(group_user)
    for _ in range(3):
        client.get(reverse("line-calls", args=[line.pk, "missed"]))
        client.get(reverse("line-calls", args=[line.pk, "missed"]) + "?page=2", HTTP_HX_REQUEST="1")
    client.get(reverse("line-calls", args=[line.pk, "incoming"]))
    entries = AccessLogEntry.objects.order_by("pk")
    assert [(e.username, e.line, e.kind) for e in entries] == [
        ("gabriel", line, "missed"),
        ("gabriel", line, "incoming"),
    ]


def test_the_throttle_key_holds_ids_only(rf, line, owner):
    from django.core.cache import cache

    request = rf.get("/")
    request.user = owner
    audit.record_line_access(request, line, "missed")
    # Its value is when it expires (epoch seconds): nothing else.
    expires = cache.get(f"lines:access-log:{owner.pk}:{line.pk}:missed")
    assert abs(expires - (time.time() + audit.ACCESS_LOG_INTERVAL.total_seconds())) < 5


def test_the_owner_sees_who_opened_the_calls(owner_client, line, group_user):
    client = Client()
    client.force_login(group_user)
    client.get(reverse("line-calls", args=[line.pk, "outgoing"]))
    html = owner_client.get(url(line)).content.decode()
    section = html.split("Who opened the calls", 1)[1]
    assert "gabriel" in section and "Outgoing calls" in section
    assert "kept 90 days" in section


def test_another_lines_events_are_not_shown(owner_client, owner, line):
    from tests.conftest import make_line

    other = make_line(owner, "demo-sales", "Sales mobile")
    audit.record(other, owner, AuditAction.RENAMED, old_label="Secret A", new_label="Secret B")
    assert "Secret A" not in owner_client.get(url(line)).content.decode()


def test_shared_users_cannot_read_the_audit_trail(client, line, shared_user):
    client.force_login(shared_user)
    assert client.get(url(line)).status_code == 403


def test_events_summarise_without_secrets(line, owner):
    event = audit.record(line, owner, AuditAction.SHARED_GROUP, group="support")
    assert event.summary == "group support"
    assert str(AuditEvent.objects.get()).endswith("shared_group Support phone")


def test_the_admin_shows_lines_read_only_so_no_change_escapes_the_audit_trail(
    client, line, staff_user
):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    change_url = f"/admin/lines/line/{line.pk}/change/"
    page = client.get(change_url)
    assert page.status_code == 200
    assert "demo-support" not in page.content.decode()
    assert 'name="label"' not in page.content.decode()  # shown, not editable
    client.post(change_url, {"label": "Renamed in admin", "owner": line.owner_id})
    line.refresh_from_db()
    assert line.label == "Support phone"
    assert client.post(f"/admin/lines/line/{line.pk}/delete/", {"post": "yes"}).status_code == 403


def access_whats(html: str) -> list[str]:
    """The "What" column of the "Who opened the calls" table, newest first."""
    section = html.split("Who opened the calls", 1)[1] if "Who opened" in html else html
    section = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>([^<]*)</td>", row)[-1] for row in section.split("<tr>")[1:]]


def test_the_access_log_says_what_was_opened_in_words_not_codes(owner_client, line):
    owner_client.get(reverse("line-calls", args=[line.pk, "missed"]))
    owner_client.get(reverse("line-export", args=[line.pk, "missed"]))
    owner_client.get(reverse("line-overview-content", args=[line.pk]))
    english = owner_client.get(url(line)).content.decode()
    assert access_whats(english) == ["Overview", "CSV export: Missed calls", "Missed calls"]
    assert "export:missed" not in english
    japanese = owner_client.get(url(line), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert access_whats(japanese) == ["概要", "CSV エクスポート: 不在着信の一覧", "不在着信の一覧"]
