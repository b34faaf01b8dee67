"""Test settings: seed throw-away secrets, then load the one real settings module.

Only environment defaults live here; every setting is still computed by
dashboard/settings.py, exactly as in production. DATABASE_URL / CACHE_URL from the
environment select PostgreSQL and Redis for the services run (make test).
"""

import os

# Hermetic: a developer's exported DJANGO_READ_DOT_ENV_FILE (as `make demo` uses) must not
# pull the demo .env (DEMO_MODE=true, its secrets) into the tests, nor into the processes
# they start, which inherit os.environ.
os.environ.pop("DJANGO_READ_DOT_ENV_FILE", None)
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
# A fixed, valid Fernet key so encrypted fixtures are reproducible.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk=")
os.environ.setdefault("DJANGO_SECURE", "false")
os.environ.setdefault("LOG_LEVEL", "DEBUG")

from dashboard.settings import *  # noqa: F403

# Faster password hashing: tests create many users; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Manifest storage needs collectstatic; tests render templates without running it.
STORAGES = {
    **STORAGES,  # noqa: F405
    # The production storage without collectstatic: same prefix-aware URLs (/calls/static/…).
    "staticfiles": {"BACKEND": "dashboard.accounts.proxy.PrefixedStaticFilesStorage"},
}
# Serve static files straight from the source folders (no collectstatic in tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file (in memory, on tmpfs) rather than SQLite's shared-cache memory database, whose
    # table locks fail at once where a real file's locks wait: threaded tests (two users at
    # once) meet SQLite as production does. pytest-xdist adds a suffix per worker.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": f"/dev/shm/calls-dashboard-test-{os.getpid()}.sqlite3"
    }

if os.environ.get("TEST_DISK_CACHE"):
    # A disk store in a folder the test chose (tests/singleflight_worker.py's processes).
    CACHES = {
        "default": {
            "BACKEND": "dashboard.ops.disk_cache.DiskCache",
            "LOCATION": os.environ["TEST_DISK_CACHE"],
        }
    }
elif not os.environ.get("CACHE_URL"):
    # The in-process suite keeps one process's local memory (conftest empties it around
    # every test), rather than a disk store in DATA_DIR shared by parallel runs. The disk
    # cache itself is tested in a folder of each test's own (tests/test_disk_cache.py,
    # tests/test_one_machine.py).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "calls-dashboard-tests",
        }
    }
