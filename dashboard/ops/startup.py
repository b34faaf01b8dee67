"""Start-up checks with messages an operator can act on, instead of traceback loops."""

from __future__ import annotations

import sys


def check_or_exit() -> None:
    """Load settings and reach the database; on failure print one clear line and exit 1."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        _fail(f"Configuration error: {exc}")
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception as exc:
        settings_dict = connection.settings_dict
        where = settings_dict.get("HOST") or settings_dict.get("NAME")
        _fail(
            f"Cannot connect to the database at {where} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}). Check DATABASE_URL "
            "and that the database server is running."
        )
    finally:
        connection.close()


def _fail(message: str) -> None:
    sys.stderr.write(f"calls-dashboard: {message}\n")
    sys.stderr.flush()
    # os._exit would skip gunicorn's cleanup; SystemExit stops the arbiter with status 1.
    raise SystemExit(1)
