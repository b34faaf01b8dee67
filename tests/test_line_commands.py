"""add_line, list_lines and prune_access_log: automation that never prints a key."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dashboard.lines.models import AccessLogEntry, AuditAction, AuditEvent, KeyStatus, Line

SECRET = "demo-cli-s3cr3t-key"


class FakeStdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def run(name: str, *args: str, stdin: str | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    kwargs = {"stdin": FakeStdin(stdin)} if stdin is not None else {}
    call_command(name, *args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def add_line(*args: str, stdin: str = SECRET + "\n") -> tuple[str, str]:
    return run("add_line", "--owner", "olivia", *args, stdin=stdin)


# add_line --------------------------------------------------------------------------------


def test_add_line_reads_the_key_from_stdin_checks_it_and_prints_only_the_hint(
    owner, support_group, demo_upstream
):
    out, err = add_line("--label", "Support phone", "--share-group", "support")
    line = Line.objects.get(owner=owner, label="Support phone")
    assert line.get_api_key() == SECRET
    assert line.key_status == KeyStatus.VALID
    assert list(line.shared_with_groups.all()) == [support_group]
    assert f"Added line {line.pk} “Support phone” for olivia: key …-key" in out
    assert "shared with groups: support" in out
    assert SECRET not in out + err
    # One minimal request per endpoint family.
    assert [(r.path, r.params["limit"]) for r in demo_upstream.recorded()] == [
        ("/call/missed/list/", "1"),
        ("/call/incoming/list/", "1"),
    ]
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == [
        AuditAction.CREATED,
        AuditAction.SHARED_GROUP,
    ]
    assert AuditEvent.objects.first().actor_name == "(command line)"


def test_add_line_has_no_key_option_so_the_key_cannot_land_in_argv(owner):
    with pytest.raises(CommandError):
        call_command("add_line", "--owner", "olivia", "--label", "X", "--api-key", SECRET)
    assert not Line.objects.exists()


def test_add_line_with_no_check_saves_without_asking_the_provider(owner, demo_upstream):
    out, _err = add_line("--label", "Offline", "--no-check")
    assert Line.objects.get(label="Offline").key_status == KeyStatus.UNCHECKED
    assert demo_upstream.recorded() == []
    assert "status: Not checked yet" in out


def test_add_line_refuses_a_rejected_key_and_saves_nothing(owner):
    with pytest.raises(CommandError, match="rejected this API key") as excinfo:
        add_line("--label", "Bad", stdin="demo-invalid\n")
    assert "demo-invalid" not in str(excinfo.value)
    assert not Line.objects.exists() and not AuditEvent.objects.exists()


def test_add_line_saves_an_expired_key_with_a_warning(owner):
    out, err = add_line("--label", "Expired", stdin="demo-expired")
    assert Line.objects.get(label="Expired").key_status == KeyStatus.EXPIRED
    assert "subscription has expired" in err
    assert "demo-expired" not in out + err


def test_a_missing_group_fails_before_anything_is_saved_or_created(owner, support_group):
    with pytest.raises(CommandError, match="no group called “suport”") as excinfo:
        add_line("--label", "Typo", "--share-group", "support", "--share-group", "suport")
    assert "nothing was saved" in str(excinfo.value)
    assert not Line.objects.exists()
    assert list(Group.objects.values_list("name", flat=True)) == ["support"]


def test_an_unknown_owner_is_a_clear_error(db):
    with pytest.raises(CommandError, match="--owner: no user is called “nobody”"):
        run("add_line", "--owner", "nobody", "--label", "X", stdin=SECRET)


def test_a_duplicate_label_is_refused(owner, line):
    with pytest.raises(CommandError, match="already have a line called “Support phone”"):
        add_line("--label", "Support phone")
    assert Line.objects.count() == 1


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "Enter the API key"),
        ("   \n", "Enter the API key"),
        ("demo-abc\ndemo-def\n", "line break"),
        ("demo-ab\x00cdefgh", "control character"),
        ("x" * 10_000, "too long"),
        ("x" * 201, "at most 200"),
    ],
)
def test_bad_keys_on_stdin_are_refused_clearly(owner, stdin, message):
    with pytest.raises(CommandError, match=message) as excinfo:
        add_line("--label", "Bad input", stdin=stdin)
    assert not Line.objects.exists()
    if stdin.strip():
        assert stdin.strip()[:20] not in str(excinfo.value)


# list_lines ------------------------------------------------------------------------------


def test_list_lines_shows_ids_labels_owners_hints_statuses_and_shares(
    line, shared_user, group_user
):
    line.key_status = KeyStatus.VALID
    line.save()
    out, _err = run("list_lines")
    header, row = out.strip().splitlines()
    assert header.split() == ["ID", "LABEL", "OWNER", "KEY", "STATUS", "SHARED", "WITH"]
    assert row.startswith(str(line.pk))
    for part in ("Support phone", "olivia", "…port", "Valid", "sam, group:support"):
        assert part in row
    assert "demo-support" not in out


def test_list_lines_can_filter_by_owner_and_says_when_there_are_none(line):
    assert run("list_lines", "--owner", "olivia")[0].count("\n") == 2
    assert run("list_lines", "--owner", "nobody")[0] == "No lines.\n"


# prune_access_log ------------------------------------------------------------------------


def test_prune_deletes_only_entries_older_than_the_retention(line, owner, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    old = AccessLogEntry.objects.create(user=owner, username="olivia", line=line, kind="missed")
    AccessLogEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = AccessLogEntry.objects.create(user=owner, username="olivia", line=line, kind="missed")
    assert run("prune_access_log", "--dry-run")[0] == (
        "Would delete 1 access-log entries older than 30 days.\n"
    )
    assert AccessLogEntry.objects.count() == 2
    assert run("prune_access_log")[0] == "Deleted 1 access-log entries older than 30 days.\n"
    assert list(AccessLogEntry.objects.all()) == [recent]


def test_prune_days_must_be_positive(db):
    with pytest.raises(CommandError, match="at least 1"):
        run("prune_access_log", "--days", "0")
