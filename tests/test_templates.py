"""Template source checks that no rendering test would notice until a person reads the page."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from dashboard.inbox.models import Episode

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_comment_spans_lines():
    """Django's `{# … #}` ends at the line's end: a comment continued on the next line is
    printed on the page, word for word. Longer comments use `{% comment %}`."""
    open_comments = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            start = line.rfind("{#")
            if start != -1 and "#}" not in line[start:]:
                open_comments.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert not open_comments, "comments printed on the page: " + ", ".join(open_comments)


def test_pages_print_no_template_comment(owner_client, line):
    for path in (f"/lines/{line.pk}/missed/", f"/lines/{line.pk}/incoming/", "/lines/"):
        assert "{#" not in owner_client.get(path).content.decode(), path


def test_every_screen_has_one_h1(owner_client, line, client):
    """One <h1> per page: axe's only finding on main (moderate, 20 times), and what a
    screen reader's heading list starts from."""
    pk = line.pk
    now = timezone.now()
    caller = Episode.objects.create(
        line=line, number="+32470123456", first_attempt_at=now, last_attempt_at=now
    )
    screens = [
        f"/lines/{pk}/inbox/{caller.pk}/",  # the caller screen without JavaScript
        f"/lines/{pk}/followup/?n=%2B32470123456&at={int(now.timestamp())}",  # mark screen
        "/accounts/preferences/",
        "/lines/",
        "/lines/new/",
        f"/lines/{pk}/settings/",
        f"/lines/{pk}/key/",
        f"/lines/{pk}/share/",
        f"/lines/{pk}/delete/",
        f"/lines/{pk}/audit/",
        f"/lines/{pk}/webhook/",
        f"/lines/{pk}/alerts/",
        f"/lines/{pk}/all/",
        f"/lines/{pk}/missed/",
        f"/lines/{pk}/incoming/",
        f"/lines/{pk}/outgoing/",
        f"/lines/{pk}/overview/",
        f"/lines/{pk}/inbox/",
        f"/lines/{pk}/callers/+32470123456/",
        "/no-such-page/",
    ]
    counts = {}
    for path in screens:
        response = owner_client.get(path, follow=True)
        counts[path] = response.content.decode().count("<h1")
    assert {path: n for path, n in counts.items() if n != 1} == {}
