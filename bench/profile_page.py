"""Profile warm requests in-process: `python -m bench.profile_page [--cprofile] [URL...]`.

A throwaway SQLite database and disk cache (the default install), the demo upstream served
in-process with no latency, one logged-in browse-only user on the seeded lines. Each URL is
warmed first (so the cache holds its answers and rendered lists), then requested N times;
prints the CPU milliseconds per request (full page and htmx partial), or a cProfile of them.
For a repeatable instruction count of one warm request on a noisy machine:
`valgrind --tool=callgrind --instr-atstart=no python -m bench.profile_page --once missed`.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time

TMP = tempfile.mkdtemp(prefix="calls-profile-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="dashboard.settings",
    DJANGO_SECRET_KEY="profile-" + "x" * 50,
    FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(b"p" * 32).decode(),
    DJANGO_SECURE="false",
    DATA_DIR=TMP,
    DATABASE_URL=f"sqlite:///{TMP}/profile.sqlite3",
    SMSMOBILEAPI_BASE_URL="demo",
    DJANGO_ALLOWED_HOSTS="testserver",
)
os.environ.pop("CACHE_URL", None)

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)  # one request log line per request would dominate the output

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from dashboard.lines.models import Line  # noqa: E402

DEFAULT_URLS = ("missed", "missed!", "incoming!", "all", "all!")


def setup() -> tuple[Client, int]:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    owner = User.objects.create_user("profile-owner")
    group = Group.objects.create(name="profile-support")
    line = Line(owner=owner, label="Team line", default_region="BE")
    line.set_api_key("demo-team")
    line.save()
    line.shared_with_groups.add(group)
    user = User.objects.create_user("profile-staff")
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    return client, line.pk


def url_for(line: int, spec: str) -> tuple[str, bool]:
    """'missed' (full page) or 'missed!' (htmx partial); 'all' is the timeline; a spec
    starting with / is taken as it is."""
    htmx = spec.endswith("!")
    spec = spec.rstrip("!")
    if spec.startswith("/"):
        return spec, htmx
    path = f"/lines/{line}/all/" if spec == "all" else f"/lines/{line}/{spec}/"
    return path, htmx


def get(client: Client, path: str, htmx: bool):
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return response


def callgrind(state: str) -> None:
    """Switch callgrind's collection for this process (nothing when not under callgrind)."""
    if shutil.which("callgrind_control"):
        subprocess.run(
            ["callgrind_control", f"--instr={state}", str(os.getpid())],
            capture_output=True,
            check=False,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="*", default=DEFAULT_URLS)
    parser.add_argument("-n", type=int, default=30, help="requests per round")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--once", action="store_true", help="one warm request (for callgrind)")
    args = parser.parse_args()
    client, line = setup()
    for spec in args.urls:
        path, htmx = url_for(line, spec)
        for _ in range(3):  # warm: the answers, the rendered lists, the memos
            body = get(client, path, htmx).content
        if args.once:
            # Under `valgrind --tool=callgrind --instr-atstart=no`: count this request only.
            callgrind("on")
            get(client, path, htmx)
            callgrind("off")
            continue
        if args.cprofile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.n):
                get(client, path, htmx)
            profile.disable()
            print(f"== {spec} ({len(body)} bytes)")
            pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(45)
            continue
        # The machine is shared: the least of five rounds is the one least disturbed.
        rounds = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(args.n):
                get(client, path, htmx)
            rounds.append(1000 * (time.process_time() - start) / args.n)
        print(
            f"{spec:<14} {min(rounds):7.2f} ms CPU per request (least of 5 rounds; "
            f"median {sorted(rounds)[2]:.2f})  ({len(body):,} bytes)"
        )


if __name__ == "__main__":
    main()
