"""Start-up faults give one clear sentence and a non-zero exit, not a traceback loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import GUNICORN, refused_port, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent


def run_gunicorn(**env_overrides: str) -> subprocess.CompletedProcess:
    """gunicorn started with a faulty environment, run until it gives up."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": "startup-test",
        "FIELD_ENCRYPTION_KEYS": "zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk=",
        **env_overrides,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.run(
        [
            GUNICORN,
            "--config",
            "dashboard/gunicorn.conf.py",
            "--bind",
            "127.0.0.1:0",
            "dashboard.wsgi",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unreachable_database_stops_the_server_with_a_clear_message():
    with refused_port() as port:
        result = run_gunicorn(DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/test")
    assert result.returncode != 0
    assert "Cannot connect to the database at 127.0.0.1" in result.stderr
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["postgress://x@host/db", "postgres://x@host:99999/db", "nonsense"])
def test_a_malformed_database_url_is_named(url):
    result = run_gunicorn(DATABASE_URL=url)
    assert result.returncode != 0
    assert "DATABASE_URL is not a valid database URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_cache_url_is_named():
    result = run_gunicorn(CACHE_URL="memcachd://nowhere")
    assert result.returncode != 0 and "CACHE_URL is not a valid cache URL" in result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_its_secrets(missing):
    result = run_gunicorn(**{missing: ""})
    assert result.returncode != 0 and f"{missing} is not set" in result.stderr


def test_a_wrong_encryption_key_is_named_at_startup():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DJANGO_SECRET_KEY": "x",
            "FIELD_ENCRYPTION_KEYS": "not-a-fernet-key",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS: entry 1 is not a valid Fernet key" in result.stderr


def test_a_normal_start_and_stop_logs_no_error_line(tmp_path):
    """The image runs as a user whose home is not writable: nothing in the server may need
    it (gunicorn's control socket once did, with an error line at every start)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": "startup-test",
        "FIELD_ENCRYPTION_KEYS": "zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk=",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "HOME": "/proc/no-home",  # cannot be created, even by root
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("CACHE_URL", None)
    server = start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        server.wait_until_answers("/healthz", timeout=30)
    finally:
        returncode = server.stop()
    log = server.log_text()
    assert returncode == 0, log
    assert "Booting worker" in log
    assert "[ERROR]" not in log and "Traceback" not in log, log


def calls_dashboard_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("calls-dashboard:")]


@pytest.mark.parametrize("database", ["elsewhere", "in DATA_DIR"])
def test_a_data_dir_that_cannot_be_written_stops_the_server_with_one_sentence(tmp_path, database):
    # A file where the folder should be: no one can create DATA_DIR, root included.
    (tmp_path / "taken").write_text("a file, not a folder")
    data_dir = tmp_path / "taken" / "data"
    env = {"DATA_DIR": str(data_dir), "CACHE_URL": ""}
    if database == "elsewhere":  # then the disk cache is what needs DATA_DIR
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = run_gunicorn(**env)
    assert result.returncode != 0
    (sentence,) = calls_dashboard_lines(result.stderr)
    assert (
        f"DATA_DIR {data_dir} cannot be written (NotADirectoryError: Not a directory)" in sentence
    )
    assert "Traceback" not in result.stderr


def test_a_damaged_disk_cache_stops_the_server_saying_it_may_be_deleted(tmp_path):
    shard = tmp_path / "cache" / "000"
    shard.mkdir(parents=True)
    (shard / "cache.db").write_bytes(b"not SQLite at all " * 500)
    result = run_gunicorn(
        DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", CACHE_URL=""
    )
    assert result.returncode != 0
    (sentence,) = calls_dashboard_lines(result.stderr)
    assert f"The cache in {tmp_path / 'cache'} is damaged" in sentence
    assert "delete that folder" in sentence
    assert "Traceback" not in result.stderr
