"""The demo's .env: fresh secrets, readable by its owner only, never overwritten."""

from __future__ import annotations

import stat

from cryptography.fernet import Fernet

from dashboard.envfile import write_env


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
