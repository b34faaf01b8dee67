"""The background worker (`manage.py run_worker`) as its own process, on the test database.

Tests that use it need `transactional_db`: rows they create are committed, so the
worker process sees them, and the rows it writes are read back from the same database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    d = connection.settings_dict
    if d["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{d['NAME']}"
    user = d.get("USER") or "postgres"
    password = f":{d['PASSWORD']}" if d.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{d.get('HOST') or '127.0.0.1'}:{d.get('PORT') or 5432}/{d['NAME']}"


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "INFO",
        "ALERTS_EVALUATE_SECONDS": "1",
    }
    env.pop("DJANGO_READ_DOT_ENV_FILE", None)
    env.update(extra)
    return env


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def kill(self) -> None:
        """kill -9: no chance to record anything."""
        self.process.kill()
        self.process.wait()


def start_worker(env: dict[str, str], log: Path) -> Worker:
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Worker(process=process, log=log)


def wait_for(condition: Callable[[], object], timeout: float = 30, what: str = "") -> object:
    """Poll `condition` (a database read, a receiver's count) until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what or condition}")
