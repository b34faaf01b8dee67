"""gunicorn configuration: the dashboard mostly waits on the provider, so threads are cheap
concurrency; every value can be overridden from the environment (see the README table)."""

import multiprocessing
import os
import shutil
import sys
import tempfile

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, min(4, multiprocessing.cpu_count()))))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread"
# Longer than the upstream read timeout plus a retry, shorter than a proxy's typical 60 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Each worker's heartbeat is a chmod of a file in this folder, once per request and per
# second: on a disk-backed /tmp that is a metadata write each time (gunicorn's docs advise
# tmpfs, and in containers /tmp is often the image's overlay).
_SHM = "/dev/shm"  # noqa: S108 - gunicorn creates its heartbeat files there with mkstemp
worker_tmp_dir = _SHM if os.access(_SHM, os.W_OK) else None
# The app writes one structured line per request itself (dashboard/ops/requestlog.py), in
# the same format as every other log line; gunicorn's own access log stays off unless asked.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Forwarded headers are only believed from the proxy (the app checks TRUSTED_PROXIES too).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (for `gunicornc`) is not used; it would live in $HOME, which the
# image's non-root user cannot write (an error line at every start), and two instances on
# one host would fight over it.
control_socket_disable = True
# Workers import the app after forking; metrics then live per worker in PROMETHEUS_MULTIPROC_DIR.
preload_app = False


_created_metrics_dir = None


def on_starting(server):
    """Fail fast, with a sentence naming the setting, when the database is unreachable or
    DATA_DIR (the default cache's home) cannot be written."""
    global _created_metrics_dir
    # Before anything imports prometheus_client (check_or_exit loads Django, and so our
    # metrics): the client picks multiprocess mode at import, in this master and in the
    # workers it forks.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _created_metrics_dir = tempfile.mkdtemp(prefix="calls-dashboard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _created_metrics_dir
    else:
        # Samples of a previous run would be summed with this one's.
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from dashboard.ops.startup import check_or_exit

    try:
        check_or_exit()
    except SystemExit:
        on_exit(server)  # gunicorn does not call it when start-up fails
        raise


def on_exit(server):
    # A folder we made for this run only: leave no samples behind in /tmp.
    if _created_metrics_dir:
        shutil.rmtree(_created_metrics_dir, ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_abort(worker):
    sys.stderr.write(f"worker {worker.pid} timed out after {timeout}s and was restarted\n")
