"""Compute dashboard/settings.py afresh from a given environment, as production would.

The test session's settings are computed once, from tests/settings.py; settings that only
exist at start-up (the CSP built from EMBED_ALLOWED_ORIGINS, the logout redirect built from
SSO_LOGOUT_URL, the validation errors) are tested by running the settings module again.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

from django.conf import global_settings
from django.test import override_settings

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "dashboard" / "settings.py"
# Variables of the test run that would leak into the computed settings.
_ISOLATED = ("DJANGO_", "SSO_", "EMBED_", "TRUSTED_PROXIES", "PASSWORD_LOGIN_ENABLED")


def load_settings(monkeypatch, tmp_path: Path, **env: str) -> dict[str, Any]:
    """The settings module's globals for `env` (plus the two required secrets)."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 60)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", "zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk=")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def applied(settings_dict: dict[str, Any], *names: str) -> override_settings:
    """override_settings with the named values of a computed settings module (or Django's
    defaults, for those the module leaves unset)."""
    return override_settings(
        **{
            name: settings_dict[name] if name in settings_dict else getattr(global_settings, name)
            for name in names
        }
    )
