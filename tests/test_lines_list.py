"""The lines page: what each user can see and do, hints only."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.conftest import make_line

URL = reverse("line-list")


def test_the_owner_sees_their_lines_with_hints_statuses_and_shares(
    owner_client, line, shared_user, group_user
):
    html = owner_client.get(URL).content.decode()
    assert "Support phone" in html and "…port" in html and "Not checked yet" in html
    assert "sam" in html and "group support" in html
    assert reverse("line-settings", args=[line.pk]) in html
    assert "demo-support" not in html


def test_a_shared_user_sees_the_line_as_browse_only(client, line, group_user):
    client.force_login(group_user)
    html = client.get(URL).content.decode()
    assert "Support phone" in html and "shared with you (browse only)" in html
    assert reverse("line-settings", args=[line.pk]) not in html
    assert "sam" not in html  # who else it is shared with is the owner's business


def test_a_stranger_sees_none_of_it(client, line, stranger):
    client.force_login(stranger)
    html = client.get(URL).content.decode()
    assert "Support phone" not in html and "No lines yet" in html


def test_staff_see_and_manage_every_line(client, owner, line, staff_user):
    make_line(owner, "demo-sales", "Sales mobile")
    client.force_login(staff_user)
    html = client.get(URL).content.decode()
    assert "Support phone" in html and "Sales mobile" in html
    assert reverse("line-settings", args=[line.pk]) in html


def test_the_topbar_links_to_the_lines_page(owner_client, line):
    assert f'href="{URL}"' in owner_client.get(URL).content.decode()


def status_cell(html: str, label: str) -> str:
    """The key status shown in `label`'s row of the lines table."""
    row = next(r for r in html.split("<tr>") if label in r)
    return re.search(r'<span class="status status-[a-z]+">([^<]+)</span>', row)[1]


def test_a_page_view_records_what_the_provider_said_about_the_key(owner_client, owner, line):
    expired = make_line(owner, "demo-expired", "Old phone")
    invalid = make_line(owner, "demo-invalid", "Broken key")
    html = owner_client.get(URL).content.decode()
    assert {status_cell(html, n) for n in ("Support phone", "Old phone", "Broken key")} == {
        "Not checked yet"
    }
    for shown in (line, expired, invalid):
        owner_client.get(reverse("line-calls", args=[shown.pk, "incoming"]))
    html = owner_client.get(URL).content.decode()
    assert status_cell(html, "Support phone") == "Valid"
    assert status_cell(html, "Old phone") == "Subscription expired"
    assert status_cell(html, "Broken key") == "Rejected"
    expired.refresh_from_db()
    assert expired.key_checked_at is not None


def test_the_missed_tab_keeps_an_expired_subscription_expired_and_notes_the_check(
    owner_client, owner
):
    expired = make_line(owner, "demo-expired", "Old phone")
    expired.key_status = "expired"
    expired.save()
    owner_client.get(reverse("line-calls", args=[expired.pk, "missed"]) + "?page=9")
    expired.refresh_from_db()
    assert expired.key_status == "expired" and expired.key_checked_at is not None
