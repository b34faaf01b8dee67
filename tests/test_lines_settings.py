"""Renaming a line and setting its phone region."""

from __future__ import annotations

from django.urls import reverse

from dashboard.lines.models import AuditAction, AuditEvent, Line
from tests.conftest import make_line


def url(line) -> str:
    return reverse("line-settings", args=[line.pk])


def test_the_owner_renames_a_line_and_it_is_audited(owner_client, owner, line):
    response = owner_client.post(url(line), {"label": "Front desk", "default_region": "fr"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.label, line.default_region) == ("Front desk", "FR")
    events = {e.action: e for e in AuditEvent.objects.all()}
    assert events[AuditAction.RENAMED].details == {
        "old_label": "Support phone",
        "new_label": "Front desk",
    }
    assert events[AuditAction.RENAMED].line_label == "Front desk"
    assert events[AuditAction.SETTINGS_CHANGED].details == {
        "default_region": {"old": "BE", "new": "FR"}
    }


def test_saving_unchanged_settings_records_nothing(owner_client, line):
    owner_client.post(url(line), {"label": "Support phone", "default_region": "BE"})
    assert not AuditEvent.objects.exists()


def test_renaming_to_another_lines_label_is_a_form_error(owner_client, owner, line):
    make_line(owner, "demo-sales", "Sales mobile")
    response = owner_client.post(url(line), {"label": "Sales mobile"})
    assert response.status_code == 200
    assert "You already have a line called “Sales mobile”" in response.content.decode()
    assert Line.objects.get(pk=line.pk).label == "Support phone"


def test_staff_can_rename_someone_elses_line(client, staff_user, line):
    client.force_login(staff_user)
    client.post(url(line), {"label": "Renamed by staff", "default_region": "BE"})
    assert Line.objects.get(pk=line.pk).label == "Renamed by staff"
    assert AuditEvent.objects.get().actor_name == "stella"


def test_the_settings_page_shows_the_hint_never_the_key(owner_client, line):
    html = owner_client.get(url(line)).content.decode()
    assert "…port" in html and "demo-support" not in html
