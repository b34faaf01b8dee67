"""The inbox screen (`/lines/<id>/inbox/`), the caller dialog and the actions on callers.

Thin views: the list is `listing.py`, the changes `people.py`, the provider `sync.py`.
Every answer to a change carries an `inbox-changed` event (HX-Trigger) with the line's
new open count, which app.js writes into every count on the page and the title; without
JavaScript the form posts and the redirected page shows the counts afresh.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard.calls.filters import DEFAULT_PER_PAGE, PER_PAGE_CHOICES, quick_ranges
from dashboard.inbox import export, people
from dashboard.inbox.forms import BulkForm, MarkForm, OwnerForm, TargetForm
from dashboard.inbox.listing import episodes_for, inbox_page, open_count, parse_filter
from dashboard.inbox.models import CallerStatus, Episode
from dashboard.inbox.sync import last_sync, sync_if_due
from dashboard.inbox.targets import initial_form_values, save_target, target_for
from dashboard.lines.access import line_view
from dashboard.lines.audit import record_line_access
from dashboard.lines.models import Line
from dashboard.reports.export import filename as export_filename
from dashboard.reports.export import unknown_format, variant_for
from dashboard.smsmobileapi.records import CallKind

CHANGED_EVENT = "inbox-changed"


@line_view()
@require_safe
@vary_on_headers("HX-Request")
def inbox(request: HttpRequest, line: Line) -> HttpResponse:
    """One row per caller with open missed calls, longest wait first."""
    record_line_access(request, line, "inbox")
    synced = sync_if_due(line, refresh="refresh" in request.GET)
    return _render_inbox(request, line, request.GET, synced=synced)


def _render_inbox(request, line: Line, query: QueryDict, *, synced=None, status: int = 200):
    f = parse_filter(query, line.default_region)
    page = inbox_page(line, request.user, f, request.time_zone)
    context = {
        "line": line,
        "lines": lambda: Line.objects.visible_to(request.user),
        "kind": "inbox",
        "kinds": list(CallKind),
        "filter": page.filter,
        "page": page,
        "synced": synced or last_sync(line),
        "open_total": open_count(line),
        "target": target_for(line),
        "now": timezone.now(),
        "statuses": CallerStatus.choices,
        "assignable": people.assignable_users(line),
        "per_page_choices": PER_PAGE_CHOICES,
        "default_per_page": DEFAULT_PER_PAGE,
        "quick_ranges": quick_ranges(timezone.localdate()),
        "today": timezone.localdate(),
        "time_zone": request.time_zone,
        "switch_params": {k: v for k, v in page.filter.params.items() if k != "page"},
        "list_url": _list_url(line, page.filter.params),
    }
    template = "inbox/inbox.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context, status=status)


def _list_url(line: Line, params: dict[str, str]) -> str:
    url = reverse("line-inbox", kwargs={"line_id": line.pk})
    return f"{url}?{urlencode(params)}" if params else url


@line_view()
@require_http_methods(["GET", "HEAD", "POST"])
def caller(request: HttpRequest, line: Line, episode_id: int) -> HttpResponse:
    """The caller dialog (or page, without JavaScript): owner and mark, with history."""
    episode = _episode(line, episode_id)
    if request.method != "POST":
        return _dialog(request, line, episode)
    action = request.POST.get("action")
    if action == "owner":
        form = OwnerForm(request.POST, line=line, user=request.user)
        if not form.is_valid():
            return _dialog(request, line, episode, errors=_errors(form), status=400)
        outcome = people.assign(
            line, request.user, episode.pk, form.cleaned_data["to"], form.cleaned_data["version"]
        )
    elif action == "claim":
        outcome = people.claim(line, request.user, episode.pk)
    else:
        form = MarkForm(request.POST)
        if not form.is_valid():
            return _dialog(
                request,
                line,
                episode,
                errors=_errors(form),
                note=request.POST.get("note", "")[:200],
                status=200 if request.htmx else 400,
            )
        outcome = people.mark(
            line,
            request.user,
            episode.pk,
            form.cleaned_data["status"],
            form.cleaned_data["note"],
            form.cleaned_data["version"],
        )
    if outcome.episode is None:
        raise Http404("No such caller.")
    if not outcome.done:
        # Someone was quicker: show the caller as it is now, and who changed it.
        return _dialog(
            request,
            line,
            outcome.episode,
            errors=[_refusal(outcome)],
            status=409 if not request.htmx else 200,
        )
    if not request.htmx:
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(_next(request, line))
    response = HttpResponse(status=204)
    return _changed(response, line, saved=True)


def _dialog(request, line: Line, episode: Episode, *, status: int = 200, **extra) -> HttpResponse:
    context = {
        "line": line,
        "episode": episode,
        "history": people.history(episode),
        "assignable": people.assignable_users(line),
        "target": target_for(line),
        "now": timezone.now(),
        "next": _next(request, line),
        "note": "",
        **extra,
    }
    template = "inbox/caller.html#dialog" if request.htmx else "inbox/caller.html"
    return render(request, template, context, status=status)


@line_view()
@require_POST
def bulk(request: HttpRequest, line: Line) -> HttpResponse:
    """Claim, assign, unassign or mark the selected callers (or one row's Claim button)."""
    form = BulkForm(request.POST, line=line, user=request.user)
    if not form.is_valid():
        for error in _errors(form):
            messages.error(request, error)
        return _after_bulk(request, line, status=400)
    data = form.cleaned_data
    done, refused = 0, []
    for episode_id, seen in data["selected"]:
        if data["action"] == "claim":
            outcome = people.claim(line, request.user, episode_id)
        elif data["action"] == "assign":
            outcome = people.assign(line, request.user, episode_id, data["to"], seen)
        elif data["action"] == "unassign":
            outcome = people.assign(line, request.user, episode_id, None, seen)
        else:
            outcome = people.mark(
                line, request.user, episode_id, data["status"], data["note"], seen
            )
        if outcome.done:
            done += 1
        else:
            refused.append(_refusal(outcome))
    if done:
        messages.success(
            request,
            _("%(n)d caller updated.") % {"n": done}
            if done == 1
            else _("%(n)d callers updated.") % {"n": done},
        )
    for text in refused:
        messages.warning(request, text)
    return _after_bulk(request, line)


def _after_bulk(request, line: Line, *, status: int = 200) -> HttpResponse:
    if not request.htmx:
        return HttpResponseRedirect(_next(request, line))
    # The list as the person sees it, with the messages above it.
    query = QueryDict(request.POST.get("query", "")[:2000])
    response = _render_inbox(request, line, query, status=200)
    return _changed(response, line)


def _changed(response: HttpResponse, line: Line, *, saved: bool = False) -> HttpResponse:
    detail = {"line": line.pk, "open": open_count(line)}
    events = {CHANGED_EVENT: detail}
    if saved:
        events["inbox-saved"] = detail
    response["HX-Trigger"] = json.dumps(events)
    return response


def _refusal(outcome: people.Outcome) -> str:
    episode = outcome.episode
    if episode is None:
        return _("A selected caller is no longer in this inbox; the list below is current.")
    number = episode.number
    if outcome.reason == "taken":
        return _("%(number)s was claimed by %(who)s first.") % {
            "number": number,
            "who": episode.owner_name,
        }
    if outcome.reason == "open_elsewhere":
        return _("%(number)s called again since: its newer missed calls are open.") % {
            "number": number
        }
    who = episode.closed_by_name or episode.owner_name
    if episode.events.exists():
        who = episode.events.first().actor_name or _("callback detection")
    return _("%(number)s was changed by %(who)s meanwhile; here it is as it is now.") % {
        "number": number,
        "who": who,
    }


def _episode(line: Line, episode_id: int) -> Episode:
    try:
        return Episode.objects.get(line=line, pk=episode_id)
    except (Episode.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such caller.") from None


def _errors(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _next(request: HttpRequest, line: Line) -> str:
    """Back to the inbox view the action came from (a path on this site only)."""
    for target in (request.POST.get("next", ""), request.headers.get("Referer", "")):
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return target
    return reverse("line-inbox", kwargs={"line_id": line.pk})


@line_view()
@require_safe
def export_csv(request: HttpRequest, line: Line) -> HttpResponse:
    """The inbox view as CSV: the same callers, filters and order, every page; for a
    spreadsheet, or (`?format=plain`) for import into other tools."""
    variant = variant_for(request.GET.get("format"))
    if variant is None:
        return unknown_format()
    record_line_access(request, line, "export:inbox")
    f = parse_filter(request.GET, line.default_region)
    rows = export.CappedEpisodes(
        episodes_for(line, request.user, f, request.time_zone), settings.EXPORT_MAX_ROWS
    )
    response = StreamingHttpResponse(
        export.stream_csv(
            rows,
            tz_name=request.time_zone,
            language=translation.get_language(),
            variant=variant,
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True,
        filename=export_filename(line.label, "inbox", timezone.localdate(), variant),
    )
    response["Cache-Control"] = "private, no-store"  # personal data: no shared copy
    return response


@line_view(manage=True)
@require_http_methods(["GET", "HEAD", "POST"])
def target_settings(request: HttpRequest, line: Line) -> HttpResponse:
    """The line's target time and business hours (the owner's, like the other settings)."""
    if request.method == "POST":
        form = TargetForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            retimed = save_target(
                line,
                request.user,
                target_minutes=data["target_minutes"],
                time_zone=data["time_zone"],
                weekly_hours=data["weekly_hours"],
                closed_days=data["closed_days"],
            )
            messages.success(
                request,
                _("Target time saved; %(n)d open callers re-timed.") % {"n": retimed},
            )
            return HttpResponseRedirect(reverse("line-inbox-settings", kwargs={"line_id": line.pk}))
    else:
        form = TargetForm(initial=initial_form_values(line))
    return render(request, "inbox/settings.html", {"line": line, "form": form})
