# Production image: slim Python, non-root, dependencies from the lock, static files built in.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
# collectstatic needs settings, not real secrets: throw-away values for this step only.
RUN DJANGO_SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS=$(python -m dashboard.envfile --new-key) \
    python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --system --uid 10001 --home /app app && mkdir -p /app/data && chown app /app/data

USER app
EXPOSE 8000
CMD ["gunicorn", "--config", "dashboard/gunicorn.conf.py", "dashboard.wsgi"]
