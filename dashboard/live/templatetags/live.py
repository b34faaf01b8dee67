"""`{% live_view line kind %}`: what static/js/live.js needs to keep a call table live."""

from __future__ import annotations

from django import template
from django.conf import settings

from dashboard.calls.cache import WEBHOOK_FACT, line_fact
from dashboard.lines.models import Line
from dashboard.live import events
from dashboard.webhooks.models import WebhookEndpoint

register = template.Library()


@register.inclusion_tag("live/_live.html", takes_context=True)
def live_view(context: template.Context, line: Line, kind: str) -> dict:
    # Whole pages only, but every one of them: from the cache while nothing changed
    # (webhooks/services.py bumps it when a secret is set).
    has_webhook = line_fact(
        line,
        WEBHOOK_FACT,
        lambda: WebhookEndpoint.objects.filter(line=line).exclude(encrypted_secret="").exists(),
    )
    return {
        "line": line,
        "kind": str(kind),
        "has_webhook": has_webhook,
        # Events stored after the page was drawn are sent when the stream opens.
        "since": events.latest_id(line.pk) if has_webhook else 0,
        "ttl": int(settings.CALLS_CACHE_TTL),
        "csp_nonce": context.get("csp_nonce"),
    }
