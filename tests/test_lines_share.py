"""Sharing a line with people and groups; shared users browse, never manage."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.urls import reverse

from dashboard.lines.models import AuditAction, AuditEvent, Line


def url(line) -> str:
    return reverse("line-share", args=[line.pk])


def unshare_url(line) -> str:
    return reverse("line-unshare", args=[line.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_sharing_with_a_user_lets_them_browse_the_line(owner_client, client, line, stranger):
    response = owner_client.post(url(line), {"username": "mallory"})
    assert response.status_code == 302
    assert list(line.shared_with_users.all()) == [stranger]
    event = AuditEvent.objects.get()
    assert (event.action, event.details) == (AuditAction.SHARED_USER, {"user": "mallory"})
    client.force_login(stranger)
    assert client.get(reverse("line-calls", args=[line.pk, "missed"])).status_code == 200
    assert client.get(url(line)).status_code == 403


def test_sharing_with_an_existing_group_reaches_its_members(owner_client, client, line):
    group = Group.objects.create(name="support")
    member = User.objects.create_user("gina")
    member.groups.add(group)
    owner_client.post(url(line), {"group": "support"})
    assert list(line.shared_with_groups.all()) == [group]
    assert Line.objects.visible_to(member).get() == line


def test_sharing_with_a_group_that_does_not_exist_is_an_error_and_creates_nothing(
    owner_client, line
):
    response = owner_client.post(url(line), {"group": "suport"})
    assert response.status_code == 200
    assert "There is no group called “suport”" in response.content.decode()
    assert not Group.objects.exists()
    assert not line.shared_with_groups.exists() and not AuditEvent.objects.exists()


def test_sharing_with_an_unknown_user_is_an_error(owner_client, line):
    response = owner_client.post(url(line), {"username": "<script>nobody</script>"})
    html = response.content.decode()
    assert "No user is called “&lt;script&gt;nobody&lt;/script&gt;”" in html
    assert "<script>nobody" not in html


def test_sharing_with_the_owner_or_with_nobody_is_an_error(owner_client, line):
    assert (
        "owns this line already"
        in owner_client.post(url(line), {"username": "olivia"}).content.decode()
    )
    assert "Enter a username or a group name" in owner_client.post(url(line), {}).content.decode()


def test_sharing_twice_says_so_and_records_once(owner_client, line, shared_user):
    page = owner_client.post(url(line), {"username": "sam"}, follow=True)
    assert messages_of(page) == ["“sam” already has access."]
    assert not AuditEvent.objects.exists()


def test_unsharing_a_user_and_a_group_removes_their_access(
    owner_client, client, line, shared_user, group_user, support_group
):
    owner_client.post(unshare_url(line), {"user": shared_user.pk})
    owner_client.post(unshare_url(line), {"group": support_group.pk})
    assert not line.shared_with_users.exists() and not line.shared_with_groups.exists()
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == [
        AuditAction.UNSHARED_USER,
        AuditAction.UNSHARED_GROUP,
    ]
    assert Group.objects.filter(pk=support_group.pk).exists()  # the group itself stays
    for user in (shared_user, group_user):
        client.force_login(user)
        assert client.get(reverse("line-calls", args=[line.pk, "missed"])).status_code == 404


def test_unsharing_someone_without_access_is_a_message_not_an_error(owner_client, line, stranger):
    page = owner_client.post(unshare_url(line), {"user": stranger.pk}, follow=True)
    assert page.status_code == 200
    assert messages_of(page) == ["That person or group no longer has access to this line."]
    page = owner_client.post(unshare_url(line), {"user": "abc"}, follow=True)
    assert messages_of(page) == ["Nothing to remove."]


def test_the_share_page_lists_current_shares(owner_client, line, shared_user, group_user):
    html = owner_client.get(url(line)).content.decode()
    assert "Stop sharing with sam" in html and "Stop sharing with group support" in html


def test_a_person_and_a_group_can_be_shared_with_at_once(owner_client, line, stranger):
    group = Group.objects.create(name="support")
    page = owner_client.post(url(line), {"username": "mallory", "group": "support"}, follow=True)
    assert messages_of(page) == ["Shared with “mallory”.", "Shared with “support”."]
    assert list(line.shared_with_users.all()) == [stranger]
    assert list(line.shared_with_groups.all()) == [group]


def test_one_bad_name_shares_with_nobody(owner_client, line, stranger):
    owner_client.post(url(line), {"username": "mallory", "group": "nope"})
    assert not line.shared_with_users.exists() and not AuditEvent.objects.exists()
