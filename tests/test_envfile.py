"""The demo's .env: fresh secrets, readable by its owner only, never overwritten."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from dashboard.envfile import write_env

ROOT = Path(__file__).resolve().parent.parent


def test_it_writes_owner_only_secrets_and_keeps_an_existing_file(tmp_path):
    path = tmp_path / ".env"
    assert write_env(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    Fernet(values["FIELD_ENCRYPTION_KEYS"].encode())  # a usable key
    assert len(values["DJANGO_SECRET_KEY"]) >= 50
    before = path.read_text()
    assert write_env(path) is False
    assert path.read_text() == before


def test_the_test_settings_ignore_the_dot_env_file_even_when_asked_to_read_it(tmp_path):
    """The suite is hermetic: with DJANGO_READ_DOT_ENV_FILE=true exported and a demo .env
    beside the code, neither the test settings nor the processes tests start read it."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "locale")
    shutil.copytree(ROOT / "dashboard", copy / "dashboard", ignore=ignore)
    (copy / "tests").mkdir()
    for name in ("__init__.py", "settings.py"):
        shutil.copy(ROOT / "tests" / name, copy / "tests" / name)
    (copy / ".env").write_text(
        "DEMO_MODE=true\nDJANGO_SECRET_KEY=from-the-dot-env\nDJANGO_SECURE_HSTS_SECONDS=7\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEMO_MODE", "FIELD_ENCRYPTION_KEYS", "PYTHONPATH"))
    }
    env.update(
        DJANGO_READ_DOT_ENV_FILE="true",
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATA_DIR=str(tmp_path / "data"),
    )
    probe = (
        "import os, django; django.setup(); from django.conf import settings as s;"
        "print(s.DEMO_MODE, s.SECRET_KEY == 'from-the-dot-env', s.SECURE_HSTS_SECONDS,"
        " os.environ.get('DEMO_MODE'), os.environ.get('DJANGO_READ_DOT_ENV_FILE'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=copy, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "0", "None", "None"]
