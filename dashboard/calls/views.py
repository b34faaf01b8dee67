from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from dashboard.calls.filters import PER_PAGE_CHOICES, CallFilterForm, quick_ranges
from dashboard.calls.service import fetch_calls
from dashboard.calls.table import columns_for
from dashboard.lines.access import line_view
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import CallKind

DEFAULT_KIND = CallKind.MISSED  # missed calls are the ones that need someone's attention


LAST_LINE_SESSION_KEY = "last_line_id"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The line the user last looked at, else their oldest one."""
    lines = Line.objects.visible_to(request.user)
    last_id = request.session.get(LAST_LINE_SESSION_KEY)
    line = lines.filter(pk=last_id).first() if isinstance(last_id, int) else None
    line = line or lines.order_by("pk").first()
    if line is None:
        return render(request, "calls/no_lines.html")
    return redirect("line-calls", line_id=line.pk, kind=DEFAULT_KIND)


@line_view()
def line_home(request: HttpRequest, line: Line) -> HttpResponse:
    return redirect("line-calls", line_id=line.pk, kind=DEFAULT_KIND)


@line_view()
@vary_on_headers("HX-Request")
def call_list(request: HttpRequest, line: Line, kind: CallKind) -> HttpResponse:
    if request.session.get(LAST_LINE_SESSION_KEY) != line.pk:  # avoid a session write per request
        request.session[LAST_LINE_SESSION_KEY] = line.pk
    form = CallFilterForm(request.GET)
    call_filter = form.to_filter()
    page = fetch_calls(line, kind, call_filter, request.time_zone, refresh="refresh" in request.GET)
    context = {
        "line": line,
        "lines": Line.objects.visible_to(request.user),
        "kind": kind,
        "kinds": list(CallKind),
        "form": form,
        "filter": call_filter,
        "page": page,
        "columns": columns_for(kind, call_filter),
        "per_page_choices": PER_PAGE_CHOICES,
        "quick_ranges": quick_ranges(timezone.localdate()),
        "time_zone": request.time_zone,
    }
    template = "calls/call_list.html"
    # htmx swaps only the results; a history-restore request needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)
