"""The demo's provider, pushing: every 30–60 s a signed Webhook V2 delivery of a new,
realistic call to the demo lines' own webhook URLs, so a newcomer sees calls arrive.

Started by `make demo` only (DEMO_MODE, demo upstream); the tests never start it.
DEMO_WEBHOOK_EVERY sets the interval ("30-60" seconds, "45", or "off").
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from dashboard.smsmobileapi.conf import uses_demo_upstream
from dashboard.smsmobileapi.demo.data import visible_calls
from dashboard.webhooks import signing
from dashboard.webhooks.models import WebhookEndpoint

logger = logging.getLogger("dashboard.webhooks")
# The realistic demo lines (setup_demo gives them a webhook secret).
DEMO_KEYS = ("demo-support", "demo-sales")
KIND_WEIGHTS = {"call.missed": 35, "call.incoming": 40, "call.outgoing": 25}


def parse_every(raw: str) -> tuple[float, float] | None:
    """ "30-60" → (30, 60); "45" → (45, 45); "off"/"0" → None. ValueError otherwise."""
    raw = raw.strip().lower()
    if raw in ("off", "0", "false", ""):
        return None
    low, _, high = raw.partition("-")
    bounds = (float(low), float(high or low))
    if bounds[0] <= 0 or bounds[1] < bounds[0]:
        raise ValueError(raw)
    return bounds


def demo_call_event(key: str, now: datetime, rng: random.Random) -> dict:
    """A new call from one of the line's usual callers, as the provider's envelope."""
    callers = visible_calls(key, None, now)[:300]
    caller = rng.choice(callers) if callers else None
    event_type = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    local = now.astimezone(ZoneInfo(settings.SMSMOBILEAPI_TIMEZONE))
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "api_version": "2026-09-22",
        "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "occurred_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {
            "guid": f"DEMO-{uuid.uuid4().hex[:12].upper()}",
            "number": caller.number if caller else "+3225550100",
            "name": (caller.name or "") if caller else "",
            "duration_seconds": 0 if event_type == "call.missed" else rng.randint(15, 900),
            "device_id": "demo-phone",
            "call_at": local.strftime("%Y-%m-%d %H:%M:%S"),
        },
    }


class Command(BaseCommand):
    help = "Deliver a signed webhook for a new demo call every 30-60 s (make demo only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--to", default="127.0.0.1:8000", help="the dashboard's HOST:PORT")
        parser.add_argument("--once", action="store_true", help="deliver one call and stop")

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE or not uses_demo_upstream():
            raise CommandError(
                "deliver_demo_webhooks runs only in the demo (DEMO_MODE, demo upstream)."
            )
        try:
            every = parse_every(settings.DEMO_WEBHOOK_EVERY)
        except ValueError:
            raise CommandError("DEMO_WEBHOOK_EVERY must be like 30-60, 45 or off.") from None
        rng = random.Random()  # noqa: S311 - demo data, not a secret
        if options["once"]:
            self.deliver(options["to"], rng)
            return
        if every is None:
            self.stderr.write("Demo webhooks are off (DEMO_WEBHOOK_EVERY=off).")
            while True:  # the supervisor stops every process when one ends: stay up
                time.sleep(3600)
        time.sleep(5)  # let the web server come up
        while True:
            time.sleep(rng.uniform(*every))
            self.deliver(options["to"], rng)

    def deliver(self, to: str, rng: random.Random) -> None:
        endpoints = [
            e
            for e in WebhookEndpoint.objects.select_related("line").exclude(encrypted_secret="")
            if _demo_key(e) in DEMO_KEYS
        ]
        if not endpoints:
            logger.warning("demo webhooks: no demo line has a webhook secret (run setup_demo)")
            return
        endpoint = rng.choice(endpoints)
        event = demo_call_event(_demo_key(endpoint), datetime.now(UTC), rng)
        body = json.dumps(event).encode()
        timestamp = int(time.time())
        request = urllib.request.Request(
            f"http://{to}{reverse('webhook-receive', args=[endpoint.token])}",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-SMSMobileAPI-Event": event["type"],
                "X-SMSMobileAPI-Event-ID": event["id"],
                "X-SMSMobileAPI-Delivery": uuid.uuid4().hex,
                "X-SMSMobileAPI-Timestamp": str(timestamp),
                "X-SMSMobileAPI-Signature": signing.sign(
                    endpoint.signing_secrets()[0], timestamp, body
                ),
                "Idempotency-Key": event["id"],
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            logger.warning("demo webhooks: delivery failed (%s)", type(exc).__name__)
            return
        logger.info(
            "demo webhooks: %s to line %s answered %s", event["type"], endpoint.line_id, status
        )


def _demo_key(endpoint: WebhookEndpoint) -> str:
    try:
        return endpoint.line.get_api_key()
    except Exception:
        return ""
