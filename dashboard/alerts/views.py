"""The line's Alerts page and the owner's actions on it. Every view goes through
`line_view` (dashboard/lines/access.py); objects are looked up within the line only."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from dashboard.alerts import delivery, schedule, services
from dashboard.alerts.forms import DestinationForm, PreferenceForm, RuleForm
from dashboard.alerts.models import (
    Alert,
    AlertRule,
    Delivery,
    DeliveryState,
    Destination,
    MemberPreference,
    SchedulerClock,
)
from dashboard.lines.access import line_view
from dashboard.lines.models import Line

RECENT_ALERTS = 30


def _by_id(queryset, raw: str | None):
    """The object of `queryset` whose id is `raw` (untrusted), or None."""
    try:
        return queryset.filter(pk=int(raw or "")).first()
    except (ValueError, OverflowError):
        return None


def _preference(request: HttpRequest, line: Line) -> MemberPreference:
    found = MemberPreference.objects.filter(user=request.user, line=line).first()
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    return found or MemberPreference(user=request.user, line=line, language=language)


def worker_state() -> dict:
    """When the rules were last evaluated, and whether that is too long ago (no worker)."""
    clock = SchedulerClock.objects.filter(name=schedule.CLOCK).first()
    last = clock.last_run_at if clock else None
    late_after = timedelta(seconds=max(5 * float(settings.ALERTS_EVALUATE_SECONDS), 300))
    return {
        "last_evaluated": last,
        "worker_missing": last is None or timezone.now() - last > late_after,
    }


@line_view()
@require_safe
def alerts_page(request: HttpRequest, line: Line) -> HttpResponse:
    recent = (
        Alert.objects.filter(line=line)
        .select_related("rule")
        .prefetch_related("deliveries__destination", "deliveries__user")[:RECENT_ALERTS]
    )
    return render(
        request,
        "alerts/alerts.html",
        {
            "line": line,
            "manageable": line.can_manage(request.user),
            "rules": AlertRule.objects.filter(line=line).prefetch_related("destinations"),
            "destinations": Destination.objects.filter(line=line),
            "recent": recent,
            "preference_form": PreferenceForm(instance=_preference(request, line)),
            "resendable": (DeliveryState.FAILED, DeliveryState.UNKNOWN),
            **worker_state(),
        },
    )


@line_view(manage=True)
@require_http_methods(["GET", "POST"])
def rule_form(request: HttpRequest, line: Line) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    rule = None
    if source.get("rule"):
        rule = _by_id(AlertRule.objects.filter(line=line), source.get("rule"))
        if rule is None:
            messages.warning(request, _("That rule no longer exists."))
            return redirect("line-alerts", line_id=line.pk)
    initial = {"time_zone": getattr(request, "viewer_zone", None) and request.viewer_zone.name}
    if rule is None and source.get("kind"):
        initial["kind"] = source.get("kind")
    form = RuleForm(
        request.POST if request.method == "POST" else None,
        instance=rule,
        line=line,
        initial={k: v for k, v in initial.items() if v} if rule is None else None,
    )
    if request.method == "POST" and form.is_valid():
        services.save_rule(form, line, request.user)
        messages.success(request, _("Alert rule saved."))
        return redirect("line-alerts", line_id=line.pk)
    return render(request, "alerts/rule_form.html", {"line": line, "form": form, "rule": rule})


@line_view(manage=True)
@require_POST
def rule_delete(request: HttpRequest, line: Line) -> HttpResponse:
    rule = _by_id(AlertRule.objects.filter(line=line), request.POST.get("rule"))
    if rule is not None:
        services.delete_rule(rule, request.user)
        messages.success(request, _("Alert rule deleted."))
    else:
        messages.warning(request, _("That rule no longer exists."))
    return redirect("line-alerts", line_id=line.pk)


@line_view(manage=True)
@sensitive_post_parameters("url", "address")
@require_http_methods(["GET", "POST"])
def destination_form(request: HttpRequest, line: Line) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    destination = None
    if source.get("destination"):
        destination = _by_id(Destination.objects.filter(line=line), source.get("destination"))
        if destination is None:
            messages.warning(request, _("That destination no longer exists."))
            return redirect("line-alerts", line_id=line.pk)
    form = DestinationForm(request.POST if request.method == "POST" else None, instance=destination)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if destination is None:
            services.add_destination(
                line,
                request.user,
                kind=data["kind"],
                label=data["label"],
                target=data["target"],
                language=data["language"],
            )
            messages.success(request, _("Destination added. Send it a test to check it."))
        else:
            services.update_destination(
                destination,
                request.user,
                label=data["label"],
                language=data["language"],
                target=data["target"],
            )
            messages.success(request, _("Destination saved."))
        return redirect("line-alerts", line_id=line.pk)
    return render(
        request,
        "alerts/destination_form.html",
        {"line": line, "form": form, "destination": destination},
    )


@line_view(manage=True)
@require_POST
def destination_delete(request: HttpRequest, line: Line) -> HttpResponse:
    destination = _by_id(Destination.objects.filter(line=line), request.POST.get("destination"))
    if destination is not None:
        services.delete_destination(destination, request.user)
        messages.success(request, _("Destination deleted."))
    else:
        messages.warning(request, _("That destination no longer exists."))
    return redirect("line-alerts", line_id=line.pk)


@line_view(manage=True)
@require_POST
def destination_test(request: HttpRequest, line: Line) -> HttpResponse:
    destination = _by_id(Destination.objects.filter(line=line), request.POST.get("destination"))
    if destination is not None:
        services.send_test(destination, request.user)
        messages.success(
            request,
            _(
                "Test queued for “%(name)s”: the background worker sends it within seconds; its result shows below."
            )
            % {"name": destination.label},
        )
    else:
        messages.warning(request, _("That destination no longer exists."))
    return redirect("line-alerts", line_id=line.pk)


@line_view(manage=True)
@require_POST
def delivery_resend(request: HttpRequest, line: Line) -> HttpResponse:
    item = _by_id(Delivery.objects.filter(alert__line=line), request.POST.get("delivery"))
    if item is not None:
        delivery.send_again(item, request.user)
        messages.success(request, _("Queued to be sent again."))
    else:
        messages.warning(request, _("That alert no longer exists."))
    return redirect("line-alerts", line_id=line.pk)


@line_view()
@require_POST
def my_preference(request: HttpRequest, line: Line) -> HttpResponse:
    form = PreferenceForm(request.POST, instance=_preference(request, line))
    if form.is_valid():
        form.save()
        messages.success(request, _("Your alert e-mail choice is saved."))
    else:
        messages.error(request, _("That choice could not be saved; pick a language from the list."))
    return redirect("line-alerts", line_id=line.pk)
