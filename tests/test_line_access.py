"""The one access check (`get_line_for_user`) against the rule it stands for
(`Line.objects.visible_to`, which it runs for one line): the two must agree for every kind
of user; and what a cached table page costs in queries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from dashboard.lines.access import get_line_for_user
from dashboard.lines.models import Line
from tests.conftest import make_line


@pytest.fixture
def everyone(owner, shared_user, group_user, staff_user, stranger):
    inactive = User.objects.create_user("ines", password="pw-ines", is_active=False)
    Line.objects.get().shared_with_users.add(inactive)
    retired = User.objects.create_user("rita", password="pw-rita", is_staff=True, is_active=False)
    root = User.objects.create_user("root", password="pw-root", is_superuser=True)
    return [
        owner,
        shared_user,
        group_user,
        staff_user,
        stranger,
        inactive,
        retired,
        root,
        AnonymousUser(),
    ]


def test_the_access_check_agrees_with_visible_to_for_every_user_and_line(everyone, stranger):
    lines = [*Line.objects.all(), make_line(stranger, "demo-sales", "Stranger's line")]
    for user in everyone:
        request = RequestFactory().get("/")
        request.user = user
        visible = set(Line.objects.visible_to(user))
        for line in lines:
            if line in visible:
                found = get_line_for_user(request, line.pk)
                assert (found.pk, found.label) == (line.pk, line.label), (user, line)
            else:
                with pytest.raises(Http404):
                    get_line_for_user(request, line.pk)
        with pytest.raises(Http404):
            get_line_for_user(request, 10**30)  # beyond every database's integers
    # The users above see what they should (visible_to is the rule; this pins the fixture).
    names = {u.username: {ln.label for ln in Line.objects.visible_to(u)} for u in everyone[:8]}
    assert names["olivia"] == names["sam"] == names["gabriel"] == {"Support phone"}
    assert names["stella"] == {"Support phone", "Stranger's line"}
    assert names["mallory"] == {"Stranger's line"}
    assert names["ines"] == names["rita"] == set()  # inactive, staff or not
    assert names["root"] == set()  # a superuser flag alone is not staff


def test_a_cached_table_page_costs_two_queries(client, group_user, line, django_assert_num_queries):
    """User with profile, line (the session comes from the cache): the cost of a cache hit
    that the benchmark tracks."""
    client.force_login(group_user)
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200  # fills the cache
    with django_assert_num_queries(2):
        page = client.get(url, headers={"HX-Request": "true"})
    assert page.status_code == 200 and "<table" in page.content.decode()
