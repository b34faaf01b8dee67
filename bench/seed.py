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


# The inbox part (bench/run.py --parts inbox): BENCH_INBOX_LINES lines on keys
# `demo-backlog-<n>`, whose missed calls (bench/upstream.py `backlog_history`) are at the
# provider only: nothing is filed, so the first view of a line reads and files them all.
INBOX_LINES = int(os.environ.get("BENCH_INBOX_LINES", "0"))
if INBOX_LINES:
    from dashboard.inbox.models import InboxSettings

    inbox_lines = []
    for n in range(INBOX_LINES):
        line = Line(owner=owner, label=f"Inbox line {n}", default_region="BE")
        line.set_api_key(f"demo-backlog-{n}")
        line.save()
        line.shared_with_groups.add(group)
        InboxSettings.objects.create(line=line, target_minutes=60)
        inbox_lines.append(line.pk)
    lines["inbox"] = inbox_lines
    # Viewed once before the measured lines: the server process has loaded the inbox's code
    # and templates, so each figure is a line's first load, not the process's.
    warm = Line(owner=owner, label="Inbox warm-up", default_region="BE")
    warm.set_api_key("demo-empty")
    warm.save()
    warm.shared_with_groups.add(group)
    lines["inbox_warmup"] = warm.pk

print(json.dumps({"lines": lines, "sessions": sessions}))
