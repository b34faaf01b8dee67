"""Line settings → Webhook: the URL to paste into the provider's dashboard, the signing
secrets (write-only), and how deliveries went. Owners and staff only (line_view)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from dashboard.lines.access import line_view
from dashboard.lines.models import Line
from dashboard.webhooks import ratelimit, services
from dashboard.webhooks.forms import NextSecretForm, SecretForm
from dashboard.webhooks.models import WebhookEndpoint

# What the last delivery got, in words (codes from services.Outcome and signing).
OUTCOME_LABELS = {
    "accepted": gettext_lazy("Accepted"),
    "duplicate": gettext_lazy("Duplicate (already stored)"),
    "ignored": gettext_lazy("Not a call event (acknowledged, ignored)"),
    "signature_mismatch": gettext_lazy("Refused: the signature does not match the secret"),
    "signature_missing": gettext_lazy("Refused: not signed"),
    "no_secret_configured": gettext_lazy("Refused: no signing secret is set here yet"),
    "timestamp_missing": gettext_lazy("Refused: no timestamp"),
    "timestamp_invalid": gettext_lazy("Refused: unreadable timestamp"),
    "timestamp_out_of_window": gettext_lazy("Refused: timestamp more than 5 minutes off"),
    "malformed": gettext_lazy("Refused: not a Webhook V2 envelope"),
    "too_large": gettext_lazy("Refused: larger than 1 MB"),
}


def webhook_url(request: HttpRequest, endpoint: WebhookEndpoint) -> str:
    """The full URL the provider must post to (with the sub-path and the proxy's host)."""
    return request.build_absolute_uri(reverse("webhook-receive", args=[endpoint.token]))


@line_view(manage=True)
@sensitive_post_parameters("secret", "next_secret")
@require_http_methods(["GET", "POST"])
def line_webhook(request: HttpRequest, line: Line) -> HttpResponse:
    endpoint = services.endpoint_for(line)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    secret_form = SecretForm(request.POST if action == "secret" else None)
    next_form = NextSecretForm(request.POST if action == "next_secret" else None)
    if action == "secret" and secret_form.is_valid():
        services.set_secret(line, secret_form.cleaned_data["secret"], actor=request.user)
        messages.success(request, _("Signing secret saved."))
        return redirect("line-webhook", line_id=line.pk)
    if action == "next_secret" and next_form.is_valid():
        services.set_secret(
            line, next_form.cleaned_data["next_secret"], next_secret=True, actor=request.user
        )
        messages.success(
            request, _("Next secret saved: deliveries signed with either secret are accepted.")
        )
        return redirect("line-webhook", line_id=line.pk)
    if action == "finish_rotation":
        if services.finish_rotation(line, actor=request.user):
            messages.success(request, _("The next secret is now the only one accepted."))
        else:
            messages.info(request, _("There is no next secret to make current."))
        return redirect("line-webhook", line_id=line.pk)
    if action == "rotate_url":
        services.rotate_url(line, actor=request.user)
        messages.warning(
            request,
            _(
                "New URL made. The old one is refused from now on: paste the new one into SMSMobileAPI."
            ),
        )
        return redirect("line-webhook", line_id=line.pk)
    endpoint.refresh_from_db()
    rate_limited = ratelimit.refused_count(line.pk)
    context = {
        "line": line,
        "endpoint": endpoint,
        "url": webhook_url(request, endpoint),
        "secret_form": secret_form,
        "next_form": next_form,
        "last_outcome": OUTCOME_LABELS.get(endpoint.last_outcome, endpoint.last_outcome),
        "retention_days": services.retention_days(),
        "refused": endpoint.refused_count + rate_limited,
        "rate_limited": rate_limited,
        "rate_limit": settings.WEBHOOK_RATE_LIMIT,
    }
    return render(request, "lines/line_webhook.html", context)
