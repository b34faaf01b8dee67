# Two commands a newcomer needs: `make demo` and `make test`. See the README.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
VENV ?= .venv
PY := $(VENV)/bin/python
# Django 6 needs Python >= 3.12; the machine's default python3 may be older.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3); do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v $$p; break; fi; done)

.PHONY: help install install-dev demo serve test test-fast test-shuffled test-services docker-check lint format messages bench browser-deps lock clean

help:
	@echo "make demo    install, migrate and serve the dashboard on the demo upstream (demo/demo)"
	@echo "make test    install and run every test (incl. PostgreSQL+Redis and browser tests)"
	@echo "make serve   run the production server (gunicorn + the background worker) with the environment's settings"
	@echo "make bench   run the benchmark harness; results in bench/results.json and .md"
	@echo "make docker-check  build the Dockerfile and run the image (buildah + podman, as root)"
	@echo "make lint    ruff check and format check"
	@echo "make messages  update dashboard/locale/ja's catalogue from the code, then compile it"

$(VENV)/.python-ok:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Python 3.12 or newer is required (Django 6). Install it (e.g. 'pyenv install 3.12')"; \
	  echo "or pass PYTHON=/path/to/python3.12 to make."; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.installed: $(VENV)/.python-ok requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

.env:
	$(PY) -m dashboard.envfile .env

demo: install .env
	@export DJANGO_READ_DOT_ENV_FILE=true; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py setup_demo && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(PY) -m dashboard.release --write >/dev/null && \
	echo "" && echo "  Dashboard: http://127.0.0.1:$(PORT)/   user: demo   password: demo" && echo "" && \
	exec $(PY) -m dashboard.ops.processes --single-port --demo-webhooks --bind 127.0.0.1:$(PORT)

serve: install
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) -m dashboard.release --write
	exec $(PY) -m dashboard.ops.processes

# The services pass re-runs the suite (browser tests aside: they test the UI, not the
# backends) on PostgreSQL and Redis. Required in CI; elsewhere skipped with a notice
# when they are not running.
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
SERVICES_CACHE_URL ?= redis://127.0.0.1:6379/1

test: install-dev
	bash .ci/system-deps.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)
	@if $(PY) -m dashboard.ops.services_check "$(SERVICES_DATABASE_URL)" "$(SERVICES_CACHE_URL)"; then \
	  echo "== services pass: PostgreSQL + Redis"; \
	  DATABASE_URL="$(SERVICES_DATABASE_URL)" CACHE_URL="$(SERVICES_CACHE_URL)" REQUIRE_SERVICES=1 \
	    $(PY) -m pytest -p no:cacheprovider -m "not browser and not services" $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then \
	  echo "CI: PostgreSQL and Redis are required for the services pass (see above)." >&2; exit 1; \
	else \
	  echo "NOTICE: services pass not run: PostgreSQL/Redis not reachable (see above)."; \
	fi
	@if [ -n "$$CI" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    $(PY) -m dashboard.ops.services_check "$(SERVICES_DATABASE_URL)" "$(SERVICES_CACHE_URL)" >/dev/null 2>&1; }; then \
	  $(MAKE) --no-print-directory docker-check; \
	else \
	  echo "NOTICE: docker-check not run: it needs root, apt-get, PostgreSQL and Redis (CI requires it)."; \
	fi

# The Dockerfile, built and run for real without a Docker engine or Docker Hub: buildah and
# podman from Debian, a stand-in python:3.12-slim-bookworm made with debootstrap and a
# CPython 3.12 build of this machine (.ci/docker-check.sh says why each step is as it is).
# Root on Debian, with the services pass's PostgreSQL and Redis. PYSRC: that build's prefix
# (by default the venv's own Python when it is 3.12, else the newest pyenv 3.12).
PYSRC ?= $(shell $(PY) -c 'import sys; print(sys.base_prefix if sys.version_info[:2] == (3, 12) else "")' 2>/dev/null)

docker-check: install
	PYSRC="$(PYSRC)" PG_ADMIN_URL="$(SERVICES_DATABASE_URL:/test=/postgres)" \
	  CACHE_URL="$(SERVICES_CACHE_URL)" bash .ci/docker-check.sh

# The suite (browser tests aside) in a shuffled order; the seed is printed, and
# `make test-shuffled PYTEST_ARGS=--randomly-seed=N` replays one. The
# default run keeps file order (-p no:randomly in pyproject.toml): a failure in CI
# reproduces with the same command.
test-shuffled: install-dev
	$(PY) -m pytest -p no:cacheprovider -p randomly -m "not browser" $(PYTEST_ARGS)

test-fast: install-dev
	$(PY) -m pytest -x -q -m "not browser and not services" $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install-dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Translations (README, "Development"): extract every marked string into the Japanese
# catalogue (new ones arrive empty, to be translated), then compile it. Both files are
# committed; tests/test_i18n.py fails when they are incomplete or stale. Needs gettext.
MESSAGES_IGNORE := --ignore=bench --ignore=tests --ignore=staticfiles --ignore=data --ignore=node_modules

messages: install .env
	@export DJANGO_READ_DOT_ENV_FILE=true; \
	$(PY) manage.py makemessages --locale=ja --no-obsolete --add-location=file $(MESSAGES_IGNORE) && \
	$(PY) manage.py compilemessages --locale=ja --ignore=.venv $(MESSAGES_IGNORE)

# BENCH_ARGS: options of bench/run.py, e.g. `make bench BENCH_ARGS=--quick`.
bench: install-dev
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/browser.py
	$(PY) bench/live.py

lock:
	rm -rf /tmp/calls-dashboard-lock && $(PYTHON) -m venv /tmp/calls-dashboard-lock
	/tmp/calls-dashboard-lock/bin/pip install --quiet .
	/tmp/calls-dashboard-lock/bin/pip freeze --exclude calls-dashboard > requirements.lock.new
	@echo "Review requirements.lock.new and move it over requirements.lock"

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
