"""The live process's application (gunicorn with uvicorn workers, or uvicorn alone).

It streams `/lines/<id>/live/` (after any sub-path) through Django's ASGI handler, the
same middleware stack as every page (sub-path, SSO, sessions, CSP), and answers the
health probes. Every other path is a 404 here, because a proxy sends only the stream to this process — unless
LIVE_SERVES_PAGES is on (one port, no proxy: `make demo`), when the pages are the
unchanged WSGI application on a thread pool, exactly as gunicorn's gthread workers run
it (persistent database connections per thread included).
"""

from __future__ import annotations

import os
import re

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

from django.conf import settings
from django.core.asgi import get_asgi_application

django_asgi = get_asgi_application()

# Any prefix (a sub-path the proxy keeps), then the stream's own route.
STREAM_PATH = re.compile(r"^(/[^/]+)*/lines/[0-9]+/live/$")
# Load balancers and the image's HEALTHCHECK probe every process the same way.
HEALTH_PATHS = ("/healthz", "/readyz")
_pages = None


def _page_app():
    global _pages
    if _pages is None:
        from a2wsgi import WSGIMiddleware
        from django.core.wsgi import get_wsgi_application

        # Threads like one gunicorn gthread worker's; pages wait on the provider.
        _pages = WSGIMiddleware(
            get_wsgi_application(), workers=int(os.environ.get("GUNICORN_THREADS", "8"))
        )
    return _pages


async def _not_here(scope, receive, send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": b"Only live streams are served here.\n"})


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        while message["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope.get("path", "")
    if scope["type"] == "http" and (STREAM_PATH.match(path) or path.rstrip("/") in HEALTH_PATHS):
        await django_asgi(scope, receive, send)
    elif settings.LIVE_SERVES_PAGES:
        await _page_app()(scope, receive, send)
    else:
        await _not_here(scope, receive, send)
