"""The one settings module. Every knob comes from the environment; see the README table.

Defaults run a single process with SQLite and a local-memory cache and need no
configuration, except the two secrets, which are never defaulted: `make demo` writes
them to a git-ignored `.env`, the test suite seeds test values (tests/settings.py).
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The .env file is read only when asked (make demo asks), never implicitly in production.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)


def _required(name: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment (see the README's configuration "
            "table); `make demo` generates one into .env for local use."
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
LANGUAGE_CODE = "en"
USE_I18N = True

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
    "dashboard.smsmobileapi",
    "dashboard.accounts",
    "dashboard.lines",
    "dashboard.calls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
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
            ],
        },
    },
]

# DATABASE AND CACHE
# ------------------------------------------------------------------------------
# SQLite in DATA_DIR by default; PostgreSQL with DATABASE_URL=postgres://...
if "DATABASE_URL" not in env:
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'dashboard.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Local memory by default; redis://host:6379/0 shares the cache between instances.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://calls-dashboard")}

# AUTH
# ------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# STATIC FILES
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, content-hashed names: cacheable forever, https://whitenoise.readthedocs.io
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
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
# Latency the in-process demo upstream adds to each answer (seconds), to make it feel real.
DEMO_UPSTREAM_LATENCY = env.float("DEMO_UPSTREAM_LATENCY", default=0.0)

# LOGGING
# ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # httpx logs every request URL, query string (and so the API key) included, at
        # INFO; the client also redacts at the source (dashboard/smsmobileapi/logs.py).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
