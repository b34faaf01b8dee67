"""Deleting a line: gone for everyone at once, audit trail kept."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from dashboard.lines.models import AccessLogEntry, AuditAction, AuditEvent, Line


def test_the_confirmation_page_names_the_line(owner_client, line):
    html = owner_client.get(reverse("line-delete", args=[line.pk])).content.decode()
    assert "Deleting “Support phone” removes its stored key" in html


def test_deleting_removes_the_line_and_keeps_its_audit_trail(owner_client, owner, line):
    line_id = line.pk
    owner_client.get(reverse("line-calls", args=[line_id, "missed"]))
    response = owner_client.post(reverse("line-delete", args=[line_id]))
    assert response.status_code == 302 and response["Location"] == reverse("line-list")
    assert not Line.objects.filter(pk=line_id).exists()
    event = AuditEvent.objects.get(action=AuditAction.DELETED)
    assert (event.line, event.line_ref, event.line_label, event.line_owner) == (
        None,
        line_id,
        "Support phone",
        owner,
    )
    assert event.details == {"key_hint": "port"}
    # The access log outlives the line too, with its label.
    assert AccessLogEntry.objects.get().line_label == "Support phone"


def test_someone_browsing_a_deleted_line_gets_a_clean_404_next(
    owner_client, line, group_user, demo_upstream
):
    client = Client()  # the browsing user's own browser, next to the owner's
    client.force_login(group_user)
    calls = reverse("line-calls", args=[line.pk, "incoming"])
    assert client.get(calls).status_code == 200
    owner_client.post(reverse("line-delete", args=[line.pk]))
    demo_upstream.clear_requests()
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(calls + "?page=2", **headers)
        assert response.status_code == 404
        assert b"Support phone" not in response.content
    assert client.get(reverse("line-home", args=[line.pk])).status_code == 404
    assert demo_upstream.recorded() == []  # nothing was fetched for a deleted line
    # Home falls back to what is left instead of the deleted line.
    assert client.get(reverse("home")).status_code == 200


def test_a_shared_user_cannot_delete(client, line, shared_user):
    client.force_login(shared_user)
    assert client.post(reverse("line-delete", args=[line.pk])).status_code == 403
    assert Line.objects.filter(pk=line.pk).exists()
