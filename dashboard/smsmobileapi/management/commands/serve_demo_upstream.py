"""Serve the demo upstream on a port, for load tests and for trying the real-network path."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the built-in demo SMSMobileAPI upstream on HOST:PORT (no dashboard)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds added to each answer"
        )

    def handle(self, *args, host: str, port: int, latency: float, **options) -> None:
        from dashboard.smsmobileapi.demo import serve

        serve(host=host, port=port, latency=latency, timezone=settings.SMSMOBILEAPI_TIMEZONE)
