"""The live process's gunicorn worker: uvicorn's, with uvicorn's own proxy-header
handling off. The app believes X-Forwarded-* only from TRUSTED_PROXIES (accounts/proxy.py),
as under gunicorn; uvicorn rewriting the client address from X-Forwarded-For first would
make the proxy's address unknowable, and every SSO request through it a refusal."""

from __future__ import annotations

from uvicorn_worker import UvicornWorker


class LiveWorker(UvicornWorker):
    CONFIG_KWARGS = {"loop": "asyncio", "http": "h11", "proxy_headers": False}
