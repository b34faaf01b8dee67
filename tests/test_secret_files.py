"""Secrets from files (DJANGO_SECRET_KEY_FILE, FIELD_ENCRYPTION_KEYS_FILE), as container
platforms mount them (/run/secrets/...)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.envsettings import load_settings

FERNET = "zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk="
OLD_FERNET = "q5k3Jd0kR5sQb3b0d9sYvJ0m3qkQm6d3sQ2m3qkQm6c="


def test_both_secrets_can_come_from_files(monkeypatch, tmp_path):
    (tmp_path / "secret_key").write_text("s" * 60 + "\n")  # editors add a newline
    (tmp_path / "keys").write_text(f"{FERNET},{OLD_FERNET}\n")
    computed = load_settings(
        monkeypatch,
        tmp_path,
        DJANGO_SECRET_KEY="",
        FIELD_ENCRYPTION_KEYS="",
        DJANGO_SECRET_KEY_FILE=str(tmp_path / "secret_key"),
        FIELD_ENCRYPTION_KEYS_FILE=str(tmp_path / "keys"),
    )
    assert computed["SECRET_KEY"] == "s" * 60
    assert computed["FIELD_ENCRYPTION_KEYS"] == [FERNET, OLD_FERNET]


def test_a_secret_set_twice_is_refused(monkeypatch, tmp_path):
    (tmp_path / "secret_key").write_text("s" * 60)
    with pytest.raises(ImproperlyConfigured) as raised:
        load_settings(monkeypatch, tmp_path, DJANGO_SECRET_KEY_FILE=str(tmp_path / "secret_key"))
    assert str(raised.value) == "Set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE, not both."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "FIELD_ENCRYPTION_KEYS_FILE names a file that cannot be read (FileNotFoundError)."),
        ("\n", "FIELD_ENCRYPTION_KEYS_FILE names an empty file."),
    ],
)
def test_a_missing_or_empty_secret_file_is_named(monkeypatch, tmp_path, content, message):
    path = tmp_path / "keys"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ImproperlyConfigured) as raised:
        load_settings(
            monkeypatch, tmp_path, FIELD_ENCRYPTION_KEYS="", FIELD_ENCRYPTION_KEYS_FILE=str(path)
        )
    assert str(raised.value) == message
