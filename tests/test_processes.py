"""`python -m dashboard.ops.processes` (what `make demo` and `make serve` run): the web
server and the worker together; one dying stops all; SIGTERM stops all cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dashboard.ops.processes import Process, Supervisor, processes
from tests.servers import free_port
from tests.workers import wait_for

ROOT = Path(__file__).resolve().parent.parent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): read its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_the_dashboard_runs_a_web_server_and_a_worker():
    names = [p.name for p in processes("127.0.0.1:1")]
    assert names[:2] == ["web", "worker"]
    web, worker = processes("127.0.0.1:1")[:2]
    assert "gunicorn" in web.argv[0] and "127.0.0.1:1" in web.argv
    assert worker.argv[-1] == "run_worker"


def test_when_one_process_exits_the_others_are_stopped_and_its_status_is_returned():
    supervisor = Supervisor(
        [
            Process("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"]),
            Process("crasher", [sys.executable, "-c", "import time; time.sleep(0.5); exit(3)"]),
        ]
    )
    supervisor.start()
    sleeper = supervisor.running["sleeper"]
    assert supervisor.wait() == 3
    assert sleeper.poll() is not None, "the sleeper was left running"


def test_a_process_that_ignores_sigterm_is_killed_after_the_stop_timeout(monkeypatch):
    monkeypatch.setattr("dashboard.ops.processes.STOP_TIMEOUT", 1.0)
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    supervisor = Supervisor(
        [
            Process("stubborn", [sys.executable, "-c", stubborn]),
            Process("crasher", [sys.executable, "-c", "import time; time.sleep(0.5); exit(1)"]),
        ]
    )
    supervisor.start()
    assert supervisor.wait() == 1
    assert supervisor.running["stubborn"].returncode == -signal.SIGKILL


@pytest.fixture
def serve_env(tmp_path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATA_DIR": str(tmp_path),
        "DJANGO_SECURE": "false",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "INFO",
        "ALERTS_EVALUATE_SECONDS": "1",
        "LIVE_BIND": f"127.0.0.1:{free_port()}",
    }
    for name in (
        "CACHE_URL",
        "DATABASE_URL",
        "PROMETHEUS_MULTIPROC_DIR",
        "DJANGO_READ_DOT_ENV_FILE",
    ):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return env


def _evaluations_done(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE task_path = 'dashboard.alerts.tasks.evaluate_alerts' AND status = 'SUCCESSFUL'"
        ).fetchone()[0]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code in (200, 302)
    except httpx.HTTPError:
        return False


def test_serve_answers_runs_the_rule_evaluation_and_stops_cleanly_on_sigterm(serve_env, tmp_path):
    port = free_port()
    log = tmp_path / "processes.log"
    with log.open("wb") as sink:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "dashboard.ops.processes", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=serve_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, 60, "the web server")
        # The worker process queued and ran the minute's evaluation by itself.
        wait_for(lambda: _evaluations_done(tmp_path / "dashboard.sqlite3"), 60, "an evaluation")
        children = [
            int(line.rsplit("pid ", 1)[1].rstrip(")"))
            for line in log.read_text().splitlines()
            if line.startswith("processes: started")
        ]
        assert len(children) == 3  # web, worker, live
        live = serve_env["LIVE_BIND"]
        wait_for(lambda: _answers(f"http://{live}/lines/1/live/"), 60, "the live process")
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0, log.read_text()[-3000:]
        time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
