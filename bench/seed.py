# Run by bench/run.py as `manage.py shell -c "<this file>"` against the benchmark's
# throwaway database: a line owner, three demo lines shared with a support group, and one
# logged-in session per simulated user. Prints one JSON object on the last line.
import json
import os

from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard.lines.models import Line

USERS = int(os.environ.get("BENCH_USERS", "50"))

owner = User.objects.create_user("bench-owner")
group = Group.objects.create(name="bench-support")
lines = {}
for key, label in (
    ("demo-support", "Support phone"),
    ("demo-sales", "Sales mobile"),
    ("demo-team", "Team line"),  # the team mix's own line: its cache starts cold
):
    line = Line(owner=owner, label=label, default_region="BE")
    line.set_api_key(key)
    line.save()
    line.shared_with_groups.add(group)
    lines[key] = line.pk

sessions = []
for n in range(USERS):
    user = User(username=f"bench-staff-{n:02d}")
    user.set_unusable_password()  # sessions are made directly: no password hashing
    user.save()
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    sessions.append(client.cookies["sessionid"].value)


# The inbox part (bench/run.py --parts inbox): BENCH_INBOX_LINES lines, each with its own
# cold cache and BENCH_INBOX_OPEN open callers already filed, spread over the last 20 days
# (numbers in a range the demo provider never calls, so no callback closes them).
INBOX_LINES = int(os.environ.get("BENCH_INBOX_LINES", "0"))
INBOX_OPEN = int(os.environ.get("BENCH_INBOX_OPEN", "500"))
if INBOX_LINES:
    from datetime import timedelta

    from django.utils import timezone

    from dashboard.inbox.models import Attempt, Episode, InboxSettings

    now = timezone.now()
    inbox_lines = []
    for n in range(INBOX_LINES):
        line = Line(owner=owner, label=f"Inbox line {n}", default_region="BE")
        line.set_api_key(f"demo-inbox-{n}")
        line.save()
        line.shared_with_groups.add(group)
        InboxSettings.objects.create(line=line, target_minutes=60)
        episodes = []
        for i in range(INBOX_OPEN):
            first = now - timedelta(minutes=40 * (i + 1))
            episodes.append(
                Episode(
                    line=line,
                    number=f"+32255{n:02d}{i:04d}",
                    name=f"Caller {i}",
                    attempts=1 + i % 3,
                    first_attempt_at=first,
                    last_attempt_at=first,
                    due_at=first + timedelta(minutes=60),
                )
            )
        Episode.objects.bulk_create(episodes)
        Attempt.objects.bulk_create(
            Attempt(line=line, episode=e, number=e.number, called_at=e.first_attempt_at)
            for e in episodes
        )
        inbox_lines.append(line.pk)
    lines["inbox"] = inbox_lines

print(json.dumps({"lines": lines, "sessions": sessions}))
