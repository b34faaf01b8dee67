# Production image: slim Python, non-root, dependencies from the lock, static files built in.
# Configuration comes only from the environment (README, "Configuration"). Migrations are a
# separate, explicit step: `docker compose run --rm migrate` (see docker-compose.yml).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PORT=8000
WORKDIR /app

COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock

COPY manage.py pyproject.toml ./
COPY dashboard ./dashboard
COPY templates ./templates
COPY static ./static
# The compiled Japanese catalogue is committed: no gettext needed in the image.
# The release id (dashboard/release.py) is fixed here, from the code this image holds.
# collectstatic needs settings, not real secrets: throw-away values for this step only.
RUN python -m dashboard.release --write \
    && DJANGO_SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS="$(python -m dashboard.envfile --new-key)" \
        python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/data && chown app /app/data

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=2)" || exit 1
CMD ["gunicorn", "--config", "dashboard/gunicorn.conf.py", "dashboard.wsgi"]
