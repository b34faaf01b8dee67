"""gunicorn settings for bench/plain_proxy.py: the dashboard's own (dashboard/gunicorn.conf.py,
same environment variables), minus its hooks, which start the dashboard's Django and metrics."""

import runpy
from pathlib import Path

_conf = runpy.run_path(
    str(Path(__file__).resolve().parent.parent / "dashboard" / "gunicorn.conf.py")
)
for _name in (
    "bind",
    "workers",
    "threads",
    "worker_class",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "worker_tmp_dir",
    "accesslog",
    "errorlog",
    "loglevel",
    "forwarded_allow_ips",
    "control_socket_disable",
    "preload_app",
):
    globals()[_name] = _conf[_name]
