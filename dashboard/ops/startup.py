"""Start-up checks with messages an operator can act on, instead of traceback loops."""

from __future__ import annotations

import os
import sqlite3
import sys


def check_or_exit() -> None:
    """Load settings, reach the database and open the disk cache; on failure print one
    clear line and exit 1."""
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
    _check_disk_cache()


def _check_disk_cache() -> None:
    """The default cache's store in DATA_DIR opens and takes a write: a folder the server
    cannot write would otherwise leave every worker uncached, with a warning a minute."""
    from django.conf import settings

    from dashboard.ops.disk_cache import DiskCache, check_writable

    config = settings.CACHES["default"]
    if config["BACKEND"] != f"{DiskCache.__module__}.{DiskCache.__name__}":
        return
    location = config["LOCATION"]
    try:
        check_writable(location)
    except Exception as exc:  # OSError, sqlite3.Error, ...
        errno = getattr(exc, "errno", None)
        detail = os.strerror(errno) if errno else (str(exc).splitlines() or ["no detail"])[0]
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            _fail(
                f"The cache in {location} is damaged ({type(exc).__name__}: {detail}); it "
                "holds nothing that is not also elsewhere, so delete that folder and start again."
            )
        _fail(
            f"DATA_DIR {settings.DATA_DIR} cannot be written ({type(exc).__name__}: {detail}); "
            "make it writable by the user the server runs as, or point DATA_DIR elsewhere "
            "(the default cache lives there)."
        )


def _fail(message: str) -> None:
    sys.stderr.write(f"calls-dashboard: {message}\n")
    sys.stderr.flush()
    # os._exit would skip gunicorn's cleanup; SystemExit stops the arbiter with status 1.
    raise SystemExit(1)
