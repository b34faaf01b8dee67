"""The one settings module. Every knob comes from the environment; see the README table.

Defaults run on one machine with SQLite and a disk cache in DATA_DIR and need no
configuration, except the two secrets, which are never defaulted: `make demo` writes
them to a git-ignored `.env`, the test suite seeds test values (tests/settings.py).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from dashboard import release

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The .env file is read only when asked (make demo asks), never implicitly in production.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)


def _required(name: str) -> str:
    """A secret from NAME, or read from the file NAME_FILE names (container secrets are
    mounted as files, e.g. /run/secrets/...); never both, never empty."""
    value = env.str(name, default="").strip()
    file_name = env.str(f"{name}_FILE", default="").strip()
    if value and file_name:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if file_name:
        try:
            value = Path(file_name).read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            # The error's kind, not its text: the path is the operator's, the content secret.
            raise ImproperlyConfigured(
                f"{name}_FILE names a file that cannot be read ({type(exc).__name__})."
            ) from None
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE names an empty file.")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it (or {name}_FILE) in the environment (see the README's "
            "configuration table); `make demo` generates one into .env for local use."
        )
    return value


# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Demo mode: the setup_demo command may create the demo/demo user; never on in production.
DEMO_MODE = env.bool("DEMO_MODE", default=False)
SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

TIME_ZONE = env.str("TIME_ZONE", default="UTC")  # Django's own default is America/Chicago.
USE_TZ = True

# LANGUAGES
# ------------------------------------------------------------------------------
# English unless the browser's Accept-Language (or the switcher's cookie) asks for
# Japanese. Names are each language's own ("日本語"), shown as such by the switcher.
LANGUAGE_CODE = "en"
USE_I18N = True
LANGUAGES = [("en", "English"), ("ja", "日本語")]
# Compiled catalogues are committed (dashboard/locale/ja/LC_MESSAGES/django.mo); `make messages`
# rebuilds them and tests/test_i18n.py fails when they are stale or incomplete.
LOCALE_PATHS = [BASE_DIR / "dashboard" / "locale"]
# The switcher's choice outlives the session (Django's default cookie ends with the browser).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
# Only the server reads it; sent like the session cookie (Lax unless embedded, below).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# The release id, fixed when the release was built (dashboard/release.py: the image build
# and `make serve`/`make demo` write it): part of every cached fragment's key. A checkout
# started any other way (runserver, the tests) is "<version>+unbuilt".
RELEASE = (
    env.str("DASHBOARD_RELEASE", default="").strip()
    or release.read(BASE_DIR)
    or f"{release.version(BASE_DIR)}+unbuilt"
)

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # whitenoise serves static files in development too, so dev matches production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # The background worker's queue, in the database (see TASKS below).
    "django_tasks_db",
    "dashboard.smsmobileapi",
    "dashboard.ops",
    "dashboard.accounts",
    "dashboard.lines",
    "dashboard.calls",
    "dashboard.followup",
    "dashboard.inbox",
    "dashboard.reports",
    "dashboard.alerts",
    "dashboard.webhooks",
    "dashboard.live",
]

MIDDLEWARE = [
    "dashboard.ops.middleware.HealthCheckMiddleware",
    "dashboard.ops.requestlog.RequestLogMiddleware",
    # First of ours: a trusted proxy's scheme, host and sub-path, before anything uses them.
    "dashboard.accounts.proxy.ProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The provider's webhook deliveries are answered here: no session, CSRF, user or SSO.
    "dashboard.webhooks.middleware.WebhookMiddleware",
    # Embedded in a portal: our cookies are Partitioned too (accounts/embed.py says why).
    "dashboard.accounts.embed.PartitionedCookiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Language from the switcher's cookie, else Accept-Language; before CommonMiddleware
    # (Django's documented place), so every later middleware's messages are translated.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # After the security-header middlewares, so its 400/403 refusals carry their headers.
    "dashboard.accounts.sso.SsoMiddleware",
    "dashboard.accounts.embed.EmbedMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.accounts.middleware.UserTimezoneMiddleware",
    "dashboard.calls.middleware.HtmxLoginRedirectMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.accounts.sso.sso_context",
            ],
        },
    },
]


# DATABASE AND CACHE
# ------------------------------------------------------------------------------
def _database() -> dict:
    """DATABASE_URL, or SQLite in DATA_DIR; a malformed URL is reported by its name."""
    if "DATABASE_URL" not in env:
        try:
            DATA_DIR.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
        except OSError as exc:
            raise _data_dir_unwritable(exc) from None
        return env.db_url_config(f"sqlite:///{DATA_DIR / 'dashboard.sqlite3'}")
    try:
        config = env.db("DATABASE_URL")
    except Exception as exc:  # django-environ raises ValueError, KeyError, ...
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL ({exc}).") from None
    if not str(config.get("ENGINE", "")).startswith("django.") or not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL is not a valid database URL: expected e.g. "
            "postgres://user:password@host:5432/name or sqlite:////path/to/db.sqlite3."
        )
    return config


def _data_dir_unwritable(exc: OSError) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"DATA_DIR {DATA_DIR} cannot be written ({type(exc).__name__}: {exc.strerror or exc}); "
        "make it writable by the user the server runs as, or point DATA_DIR elsewhere "
        "(the default database lives there)."
    )


def _cache() -> dict:
    """CACHE_URL, or diskcache in DATA_DIR: one cache for every worker of this machine."""
    if not env.str("CACHE_URL", default="").strip():
        # dashboard/ops/disk_cache.py says why diskcache, and what it changes.
        return {
            "BACKEND": "dashboard.ops.disk_cache.DiskCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    try:
        config = env.cache("CACHE_URL")
    except Exception as exc:
        raise ImproperlyConfigured(f"CACHE_URL is not a valid cache URL ({exc}).") from None
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # Django's backend, minus a client object built per operation (ops/redis_cache.py).
        config["BACKEND"] = "dashboard.ops.redis_cache.RedisCache"
    return config


# SQLite in DATA_DIR by default; PostgreSQL with DATABASE_URL=postgres://...
DATABASES = {"default": _database()}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A transaction takes SQLite's write lock when it begins, so a second writer waits
    # (the busy timeout) instead of failing at once with "database is locked" when two
    # requests both read and then write (two people marking the same call).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")
    # Write-ahead logging: readers (pages, the live processes' event reads) never block
    # the writer nor wait for it, so a burst of webhook deliveries, each a short write,
    # queues only behind other writes. Measured in bench/live.py (100 deliveries/s).
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # Seconds a writer waits for the lock before "database is locked" (Django: 5).
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
# Sessions are read from the shared cache and written through to the database (Django's
# cached_db store, made outage-safe in accounts/sessions.py): a cached page costs no
# session query, every instance sees every login and logout, and a Redis outage falls
# back to the database without logging anyone out.
SESSION_ENGINE = "dashboard.accounts.sessions"

# diskcache in DATA_DIR by default (every worker of this machine shares it);
# redis://host:6379/0 shares it between machines.
CACHES = {"default": _cache()}

# AUTH
# ------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# With SSO, logging out goes to the proxy's sign-out URL instead (SSO_LOGOUT_URL, below).
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# STATIC FILES
# ------------------------------------------------------------------------------
# Absolute on purpose: whitenoise matches it against the path without the sub-path, and
# the storage below adds the request's sub-path (/calls/static/…) to every URL it builds.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, content-hashed names: cacheable forever, https://whitenoise.readthedocs.io
    "staticfiles": {"BACKEND": "dashboard.accounts.proxy.PrefixedManifestStaticFilesStorage"},
}

# SECURITY
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/6.0/ref/csp/ — no inline scripts or styles anywhere;
# htmx comes from our own static files with a nonce, and its indicator styles are
# switched off in base.html (they would be inline).
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
# https://docs.djangoproject.com/en/6.0/howto/error-reporting/#filtering-error-reports
# Masks marked variables even with DEBUG on, and anything carrying an apikey parameter.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.ops.error_reports.KeySafeExceptionReporterFilter"
# https://docs.djangoproject.com/en/6.0/ref/middleware/#x-content-type-options
SECURE_CONTENT_TYPE_NOSNIFF = True
# https://docs.djangoproject.com/en/6.0/ref/middleware/#referrer-policy
SECURE_REFERRER_POLICY = "same-origin"
# https://docs.djangoproject.com/en/6.0/ref/clickjacking/
X_FRAME_OPTIONS = "DENY"
# https://docs.djangoproject.com/en/6.0/ref/settings/#session-cookie-httponly
SESSION_COOKIE_HTTPONLY = True
# TLS is terminated by the proxy in production: these follow DJANGO_SECURE (default on
# unless DEBUG or demo). https://docs.djangoproject.com/en/6.0/howto/deployment/checklist/
_SECURE = env.bool("DJANGO_SECURE", default=not (DEBUG or DEMO_MODE))
SESSION_COOKIE_SECURE = _SECURE
CSRF_COOKIE_SECURE = _SECURE
LANGUAGE_COOKIE_SECURE = _SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# https://docs.djangoproject.com/en/6.0/ref/settings/#secure-hsts-seconds
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if _SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)

# STORED API KEYS
# ------------------------------------------------------------------------------
# Fernet keys, comma-separated, newest first: the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = [k.strip() for k in _required("FIELD_ENCRYPTION_KEYS").split(",")]
# Days the access log (who opened which line's calls: personal data) is kept;
# `manage.py prune_access_log` (run it daily) deletes older rows.
ACCESS_LOG_RETENTION_DAYS = env.int("ACCESS_LOG_RETENTION_DAYS", default=90)
if ACCESS_LOG_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("ACCESS_LOG_RETENTION_DAYS must be at least 1.")

# WEBHOOKS
# ------------------------------------------------------------------------------
# Days stored webhook events are kept (they resume live views and feed the inbox);
# `manage.py prune_webhook_events` (run it daily) deletes older ones.
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
# Deliveries accepted per line per minute; more are answered 429 (the provider retries).
WEBHOOK_RATE_LIMIT = env.int("WEBHOOK_RATE_LIMIT", default=12000)
if WEBHOOK_EVENT_RETENTION_DAYS < 1 or WEBHOOK_RATE_LIMIT < 1:
    raise ImproperlyConfigured(
        "WEBHOOK_EVENT_RETENTION_DAYS and WEBHOOK_RATE_LIMIT must be at least 1."
    )

# LIVE VIEWS
# ------------------------------------------------------------------------------
# Open call tables hear of new calls through server-sent events from the live process
# (an ASGI server beside the WSGI one; dashboard/live/). README, "Live updates".
# Redis pub/sub wakes every live process at once when a delivery lands on any instance;
# by default the Redis of CACHE_URL, if it is one. Without Redis, a live process finds
# new events by reading the database every LIVE_POLL_SECONDS (and at once when the
# delivery reached the same process).
_cache_url = env.str("CACHE_URL", default="").strip()
LIVE_REDIS_URL = env.str(
    "LIVE_REDIS_URL", default=_cache_url if _cache_url.startswith(("redis://", "rediss://")) else ""
).strip()
LIVE_POLL_SECONDS = env.float("LIVE_POLL_SECONDS", default=0.5)
# A comment line this often keeps proxies from closing an idle stream (nginx: 60 s); the
# access check runs again at each one, so a removed share ends the stream within this time.
LIVE_HEARTBEAT_SECONDS = env.float("LIVE_HEARTBEAT_SECONDS", default=20.0)
# A stream ends after this long and the browser reconnects (resuming from Last-Event-ID).
LIVE_STREAM_MAX_SECONDS = env.float("LIVE_STREAM_MAX_SECONDS", default=300.0)
# One port for everything (make demo, or no proxy at all): the live process also serves
# the pages, through the same WSGI application as gunicorn's.
LIVE_SERVES_PAGES = env.bool("LIVE_SERVES_PAGES", default=False)
if min(LIVE_POLL_SECONDS, LIVE_HEARTBEAT_SECONDS, LIVE_STREAM_MAX_SECONDS) <= 0:
    raise ImproperlyConfigured(
        "LIVE_POLL_SECONDS, LIVE_HEARTBEAT_SECONDS and LIVE_STREAM_MAX_SECONDS must be positive."
    )

# UPSTREAM
# ------------------------------------------------------------------------------
# "demo" (or unset) calls the built-in demo upstream in-process; the real service is
# https://api.smsmobileapi.com
SMSMOBILEAPI_BASE_URL = env.str("SMSMOBILEAPI_BASE_URL", default="demo") or "demo"
SMSMOBILEAPI_CONNECT_TIMEOUT = env.float("SMSMOBILEAPI_CONNECT_TIMEOUT", default=3.0)
SMSMOBILEAPI_READ_TIMEOUT = env.float("SMSMOBILEAPI_READ_TIMEOUT", default=10.0)
# The zone of the missed-calls endpoint's `date` strings and day filters: undocumented
# upstream, assumed UTC (see smsmobileapi-calls.md, "Unknowns").
SMSMOBILEAPI_TIMEZONE = env.str("SMSMOBILEAPI_TIMEZONE", default="UTC")
# make demo's provider pushes a webhook for a new call this often (seconds, "lo-hi" or "off").
DEMO_WEBHOOK_EVERY = env.str("DEMO_WEBHOOK_EVERY", default="30-60")
# Latency the in-process demo upstream adds to each answer (seconds), to make it feel real.
DEMO_UPSTREAM_LATENCY = env.float("DEMO_UPSTREAM_LATENCY", default=0.0)

# UPSTREAM CACHE
# ------------------------------------------------------------------------------
# The provider's data changes every few minutes at best (the phone syncs in the
# background), so a short cache loses nothing a user could notice. See calls/cache.py.
# Seconds an answer is served without asking the provider again.
CALLS_CACHE_TTL = env.float("CALLS_CACHE_TTL", default=30.0)
# Seconds the last good answer is kept, to be shown (marked stale) when the provider fails.
CALLS_CACHE_STALE_TTL = env.float("CALLS_CACHE_STALE_TTL", default=15 * 60.0)
# Seconds a fetch holds its single-flight lock (and identical requests wait for it): longer
# than a fetch can take (read timeout + connect retries), so a crashed holder frees it.
CALLS_CACHE_LOCK_TIMEOUT = env.float(
    "CALLS_CACHE_LOCK_TIMEOUT",
    default=SMSMOBILEAPI_READ_TIMEOUT + 2 * SMSMOBILEAPI_CONNECT_TIMEOUT + 1,
)
# After a provider error or 429 a line's calls pause: first this many seconds, doubling
# on each further failure up to CALLS_BACKOFF_MAX; a longer Retry-After always wins.
CALLS_BACKOFF_BASE = env.float("CALLS_BACKOFF_BASE", default=5.0)
CALLS_BACKOFF_MAX = env.float("CALLS_BACKOFF_MAX", default=300.0)
# At most one forced Refresh per line per this many seconds; other presses get the cache.
CALLS_REFRESH_INTERVAL = env.float("CALLS_REFRESH_INTERVAL", default=10.0)

# REPORTS
# ------------------------------------------------------------------------------
# The provider has no totals or aggregates: reports read page after page, so each is capped.
# Calls of each kind one overview reads per period (beyond: the page says what was left out).
OVERVIEW_MAX_ROWS = env.int("OVERVIEW_MAX_ROWS", default=5000)
# Seconds a computed overview is reused for the same key, days and zone.
OVERVIEW_CACHE_SECONDS = env.int("OVERVIEW_CACHE_SECONDS", default=120)
# Rows one CSV export holds at most (a last line says so when it stops there).
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=10_000)
if min(OVERVIEW_MAX_ROWS, EXPORT_MAX_ROWS) < 1:
    raise ImproperlyConfigured("OVERVIEW_MAX_ROWS and EXPORT_MAX_ROWS must be at least 1.")

# BACKGROUND WORKER AND ALERTS
# ------------------------------------------------------------------------------
# Django's tasks framework with the ORM backend: jobs are rows in the same database, run
# by `manage.py run_worker` (started with the web server by `make demo`/`make serve`;
# its own service in docker-compose.yml). Several workers may run on PostgreSQL.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# Seconds between two evaluations of the alert rules (one worker at a time, whichever
# takes the scheduler row first). A minute in production; the tests make it shorter.
ALERTS_EVALUATE_SECONDS = env.float("ALERTS_EVALUATE_SECONDS", default=60.0)
if ALERTS_EVALUATE_SECONDS <= 0:
    raise ImproperlyConfigured("ALERTS_EVALUATE_SECONDS must be more than 0.")
# Seconds one send (SMTP or an Apprise URL) may take before it counts as failed.
ALERTS_SEND_TIMEOUT = env.float("ALERTS_SEND_TIMEOUT", default=20.0)
# Attempts of one delivery before it is given up as failed; the pause between them
# starts at ALERTS_RETRY_SECONDS and doubles each time.
ALERTS_MAX_ATTEMPTS = env.int("ALERTS_MAX_ATTEMPTS", default=5)
ALERTS_RETRY_SECONDS = env.float("ALERTS_RETRY_SECONDS", default=30.0)
# Days alerts (their messages hold callers' numbers and names) are kept; a daily job
# deletes older ones (the audit trail keeps that they were sent).
ALERTS_RETENTION_DAYS = env.int("ALERTS_RETENTION_DAYS", default=90)
if ALERTS_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("ALERTS_RETENTION_DAYS must be at least 1.")
if ALERTS_MAX_ATTEMPTS < 1 or ALERTS_RETRY_SECONDS < 0 or ALERTS_SEND_TIMEOUT <= 0:
    raise ImproperlyConfigured(
        "ALERTS_MAX_ATTEMPTS must be at least 1, ALERTS_RETRY_SECONDS at least 0 and "
        "ALERTS_SEND_TIMEOUT more than 0."
    )


def _public_url() -> str:
    value = env.str("PUBLIC_URL", default="").strip().rstrip("/")
    if value and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~%/-]*)?", value):
        raise ImproperlyConfigured(
            "PUBLIC_URL must be the dashboard's address as people open it, such as "
            "https://intranet.example.com/calls (scheme, host, optional sub-path)."
        )
    return value


# Where people open the dashboard (with its sub-path): the links in alerts are built on
# it. Unset: http://127.0.0.1:$PORT, right for `make demo` only.
PUBLIC_URL = _public_url() or f"http://127.0.0.1:{env.str('PORT', default='8000')}"


def _mailers() -> dict:
    """EMAIL_URL (smtp://user:password@host:587, smtp+tls://…, consolemail://), read by
    django-environ and given to Django 6.1's MAILERS."""
    default = "consolemail://" if DEMO_MODE else ""
    url = env.str("EMAIL_URL", default=default).strip()
    if not url:
        # Not configured: e-mail deliveries fail and say so (never a silent console).
        return {"default": {"BACKEND": "dashboard.alerts.mail.NotConfiguredBackend"}}
    try:
        config = env.email_url_config(url)
    except Exception:  # the URL holds a password: its text is never repeated
        raise ImproperlyConfigured("EMAIL_URL is not a valid e-mail URL.") from None
    backend = config["EMAIL_BACKEND"]
    options: dict = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": config.get("EMAIL_HOST") or "localhost",
            "port": config.get("EMAIL_PORT") or 25,
            "username": config.get("EMAIL_HOST_USER") or "",
            "password": config.get("EMAIL_HOST_PASSWORD") or "",
            "use_tls": bool(config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(config.get("EMAIL_USE_SSL")),
            "timeout": ALERTS_SEND_TIMEOUT,
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": config.get("EMAIL_FILE_PATH") or str(DATA_DIR / "mail")}
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = _mailers()
# The sender of alert e-mails.
DEFAULT_FROM_EMAIL = env.str("ALERTS_FROM_EMAIL", default="calls-dashboard@localhost")

# LOGGING
# ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "plain" for people, "json" for log pipelines: one object per line, request fields included.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "dashboard.ops.requestlog.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "dashboard.ops.requestlog.JsonFormatter"},
    },
    # A webhook URL's token is its only secret part; Django logs paths of 4xx/5xx answers.
    "filters": {"webhook_tokens": {"()": "dashboard.webhooks.logs.RedactWebhookTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["webhook_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # httpx logs every request URL, query string (and so the API key) included, at
        # INFO; the client also redacts at the source (dashboard/smsmobileapi/logs.py).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Our request log replaces Django's own per-request lines.
        "django.server": {"level": "WARNING"},
        # Apprise logs the services it calls, tokens in their URLs included: its records
        # are captured per send and redacted instead (dashboard/alerts/logs.py).
        "apprise": {"level": "WARNING", "propagate": False, "handlers": []},
        # Apprise sends through requests, whose urllib3 logs each request's path (a chat
        # webhook's token) at DEBUG.
        "urllib3": {"level": "WARNING"},
    },
}

# OPERATIONS
# ------------------------------------------------------------------------------
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset disables it.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Peers whose X-Forwarded-* and X-Request-ID headers are believed (CIDR list).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])


# SINGLE SIGN-ON, SUB-PATH AND EMBEDDING
# ------------------------------------------------------------------------------
# README, "Behind an SSO proxy"; code in dashboard/accounts/proxy.py, sso.py, embed.py.
def _cidrs(name: str, values: list[str]) -> list[str]:
    networks = []
    for value in (v.strip() for v in values):
        if not value:
            continue
        try:
            networks.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an IP address or network (e.g. 10.0.0.5/32)."
            ) from None
    return networks


# Validated here: a typo must stop the app, not silently trust nobody (or everybody).
TRUSTED_PROXIES = _cidrs("TRUSTED_PROXIES", TRUSTED_PROXIES)

_HEADER_NAME = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")


def _header_name(name: str, value: str) -> str:
    value = value.strip()
    # Underscores are refused: servers drop such headers, or confuse them with the dashed
    # name (both become HTTP_X_FORWARDED_USER), the classic way to spoof a trusted header.
    if value and not _HEADER_NAME.match(value):
        raise ImproperlyConfigured(
            f"{name} must be a header name of letters, digits and dashes, such as "
            "X-Forwarded-User (no underscores)."
        )
    return value


# Trusted-header login (Grafana's auth.proxy, stricter): off by default.
SSO_ENABLED = env.bool("SSO_ENABLED", default=False)
SSO_USER_HEADER = _header_name(
    "SSO_USER_HEADER", env.str("SSO_USER_HEADER", default="X-Forwarded-User")
)
SSO_EMAIL_HEADER = _header_name("SSO_EMAIL_HEADER", env.str("SSO_EMAIL_HEADER", default=""))
SSO_NAME_HEADER = _header_name("SSO_NAME_HEADER", env.str("SSO_NAME_HEADER", default=""))
SSO_GROUPS_HEADER = _header_name("SSO_GROUPS_HEADER", env.str("SSO_GROUPS_HEADER", default=""))
SSO_GROUPS_SEPARATOR = env.str("SSO_GROUPS_SEPARATOR", default=",") or ","
# Create users the proxy vouches for on first sight; off: only existing users get in.
SSO_AUTO_SIGNUP = env.bool("SSO_AUTO_SIGNUP", default=True)
# Groups the groups header never adds nor removes (assigned by hand in the admin).
SSO_LOCAL_GROUPS = env.list("SSO_LOCAL_GROUPS", default=[])
SSO_LOGOUT_URL = env.str("SSO_LOGOUT_URL", default="").strip()
PASSWORD_LOGIN_ENABLED = env.bool("PASSWORD_LOGIN_ENABLED", default=True)
if SSO_ENABLED and not TRUSTED_PROXIES:
    # Grafana trusts every peer when its whitelist is empty; we refuse to start instead.
    raise ImproperlyConfigured(
        "SSO_ENABLED needs TRUSTED_PROXIES: the addresses of the proxy that sets "
        f"{SSO_USER_HEADER}. Without it anyone could send that header."
    )
if SSO_ENABLED and not SSO_USER_HEADER:
    raise ImproperlyConfigured("SSO_ENABLED needs SSO_USER_HEADER, e.g. X-Forwarded-User.")
if not SSO_ENABLED and not PASSWORD_LOGIN_ENABLED:
    raise ImproperlyConfigured(
        "PASSWORD_LOGIN_ENABLED=false needs SSO_ENABLED=true, or nobody could log in."
    )
if SSO_LOGOUT_URL and not SSO_LOGOUT_URL.startswith(("/", "https://", "http://")):
    raise ImproperlyConfigured(
        "SSO_LOGOUT_URL must be a URL (https://auth.example.com/logout) or a path "
        "(/oauth2/sign_out)."
    )
if SSO_ENABLED and SSO_LOGOUT_URL:
    LOGOUT_REDIRECT_URL = SSO_LOGOUT_URL
# Both always listed; each checks its switch at run time, so turning one off also ends
# the sessions it made.
AUTHENTICATION_BACKENDS = [
    "dashboard.accounts.sso.PasswordBackend",
    "dashboard.accounts.sso.SsoBackend",
]

# A fixed sub-path, when the proxy does not send X-Forwarded-Prefix (that header, from a
# trusted proxy, wins). Django's own FORCE_SCRIPT_NAME, so commands' URLs carry it too.
_script_name = env.str("DJANGO_SCRIPT_NAME", default="").strip().rstrip("/")
if _script_name and not re.fullmatch(r"(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+", _script_name):
    raise ImproperlyConfigured("DJANGO_SCRIPT_NAME must be a path such as /calls.")
FORCE_SCRIPT_NAME = _script_name or None


def _origins(name: str, values: list[str]) -> list[str]:
    origins = []
    for raw in values:
        value = raw.strip().rstrip("/")
        if not value:
            continue
        if not re.fullmatch(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?", value):
            raise ImproperlyConfigured(
                f"{name}: {raw!r} is not an origin such as https://portal.example.com "
                "(scheme and host, optional port, no path)."
            )
        origins.append(value)
    return origins


# Not embeddable by default (frame-ancestors 'none' and X-Frame-Options: DENY above).
# Listing the intranet portal's origins lets exactly those frame the dashboard.
EMBED_ALLOWED_ORIGINS = _origins(
    "EMBED_ALLOWED_ORIGINS", env.list("EMBED_ALLOWED_ORIGINS", default=[])
)
if EMBED_ALLOWED_ORIGINS:
    SECURE_CSP = {**SECURE_CSP, "frame-ancestors": EMBED_ALLOWED_ORIGINS}
    # Inside a cross-site iframe the browser sends only SameSite=None cookies, and those
    # only when Secure: without this, every login inside the portal would loop.
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SAMESITE = "None"
    LANGUAGE_COOKIE_SECURE = True
