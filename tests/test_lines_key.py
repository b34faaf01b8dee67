"""Replacing a line's key and checking it again: the old key stays unless the new one passes."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse

from dashboard.lines.models import AuditAction, AuditEvent, KeyStatus, Line

NEW_SECRET = "demo-r3placement-key"


def key_url(line) -> str:
    return reverse("line-key", args=[line.pk])


def check_url(line) -> str:
    return reverse("line-check", args=[line.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_key_page_shows_only_the_hint_and_the_last_check(owner_client, line):
    html = owner_client.get(key_url(line)).content.decode()
    assert "…port" in html and "Not checked yet" in html
    assert "demo-support" not in html
    assert 'type="password" name="api_key"' in html


def test_a_valid_new_key_replaces_the_old_one(owner_client, owner, line, demo_upstream):
    response = owner_client.post(key_url(line), {"api_key": NEW_SECRET})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.get_api_key() == NEW_SECRET
    assert (line.key_hint, line.key_status) == ("-key", KeyStatus.VALID)
    assert [r.params["apikey"] for r in demo_upstream.recorded()] == [NEW_SECRET, NEW_SECRET]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.details) == (
        AuditAction.KEY_REPLACED,
        owner,
        {"old_key_hint": "port", "key_hint": "-key", "key_status": "valid"},
    )
    page = owner_client.get(response["Location"])
    assert messages_of(page) == ["API key replaced.", "SMSMobileAPI accepted the key."]


def test_a_rejected_new_key_keeps_the_old_key(owner_client, line):
    before = Line.objects.get(pk=line.pk).encrypted_api_key
    response = owner_client.post(key_url(line), {"api_key": "demo-invalid"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "rejected this API key" in html and "demo-invalid" not in html
    assert Line.objects.get(pk=line.pk).encrypted_api_key == before
    assert not AuditEvent.objects.exists()


def test_a_malformed_new_key_is_refused_without_asking_the_provider(
    owner_client, line, demo_upstream
):
    response = owner_client.post(key_url(line), {"api_key": "demo-abc\r\ndef"})
    assert "line break" in response.content.decode()
    assert demo_upstream.recorded() == []


def test_check_again_records_the_answer_for_the_stored_key(owner_client, line, demo_upstream):
    response = owner_client.post(check_url(line))
    assert response.status_code == 302 and response["Location"] == key_url(line)
    line.refresh_from_db()
    assert line.key_status == KeyStatus.VALID and line.key_checked_at
    assert [r.params["apikey"] for r in demo_upstream.recorded()] == ["demo-support"] * 2
    assert AuditEvent.objects.get().action == AuditAction.KEY_CHECKED


def test_check_again_says_when_the_stored_key_is_now_rejected(owner_client, owner):
    from tests.conftest import make_line

    line = make_line(owner, "demo-invalid")
    page = owner_client.post(check_url(line), follow=True)
    assert "SMSMobileAPI rejects the stored key. Replace it below." in messages_of(page)
    assert Line.objects.get(pk=line.pk).key_status == KeyStatus.REJECTED  # kept, flagged


def test_check_again_explains_an_undecryptable_key(owner_client, line, demo_upstream):
    with override_settings(FIELD_ENCRYPTION_KEYS=["zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhw="]):
        page = owner_client.post(check_url(line), follow=True)
    assert any("FIELD_ENCRYPTION_KEYS" in m for m in messages_of(page))
    assert demo_upstream.recorded() == []


def test_check_again_accepts_only_post(owner_client, line):
    assert owner_client.get(check_url(line)).status_code == 405


def test_error_reports_are_told_to_hide_the_posted_key(owner_client, line):
    response = owner_client.post(key_url(line), {"api_key": "demo-invalid"})
    assert response.wsgi_request.sensitive_post_parameters == ("api_key",)
