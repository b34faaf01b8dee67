"""The lines page: what each user can see and do, hints only."""

from __future__ import annotations

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
