"""Marking missed calls. A row links to the mark screen (GET); with JavaScript it opens in
the page's one dialog and the saved cell replaces the row's, without it the form posts and
comes back to the page it was opened from."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dashboard.calls.phone import number_key
from dashboard.followup.forms import MarkForm
from dashboard.followup.later import Later, later_contacts
from dashboard.followup.marks import CallRef, history_for, marks_for, set_mark
from dashboard.followup.state import FollowUpState
from dashboard.lines.access import line_view
from dashboard.lines.models import Line

# The header the dialog script looks for: this response is the row's new cell.
CELL_HEADER = "X-Followup-Cell"


# Browse access is enough: following up missed calls is support staff's job.
@line_view()
@require_http_methods(["GET", "HEAD", "POST"])
def mark(request: HttpRequest, line: Line) -> HttpResponse:
    if request.method == "POST":
        return _save(request, line)
    ref = _ref_from_query(request, line)
    if ref is None:
        return render(
            request,
            "followup/mark_missing.html",
            {"line": line, "back": _missed_tab(line)},
            status=400,
        )
    later = later_contacts(line).after(ref.number, ref.called_at)
    return _form(request, line, FollowUpState(ref, marks_for(line, [ref]).get(ref), later))


def _save(request: HttpRequest, line: Line) -> HttpResponse:
    form = MarkForm(request.POST, region=line.default_region)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        if "number" in form.errors or "called_at" in form.errors:
            # Nothing to show a form for: the call itself was not understood.
            if request.htmx:
                return render(request, "followup/cell.html", {"line": line, "errors": errors})
            for error in errors:
                messages.error(request, error)
            return _back(request, line)
        later_at = form.cleaned_data.get("later")
        state = FollowUpState(form.ref, marks_for(line, [form.ref]).get(form.ref), _later(later_at))
        # The form again, with what was typed: nothing is lost.
        return _form(
            request,
            line,
            state,
            errors=errors,
            chosen_status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
            status=200 if request.htmx else 400,
        )
    set_mark(line, request.user, form.ref, form.new_status, form.cleaned_data["note"])
    if not request.htmx:
        messages.success(request, _("Follow-up saved."))
        return _back(request, line)
    later_at = form.cleaned_data["later"]
    state = FollowUpState(form.ref, marks_for(line, [form.ref]).get(form.ref), _later(later_at))
    response = render(request, "followup/cell.html", {"line": line, "fu": state, "saved": True})
    response[CELL_HEADER] = "1"
    return response


def _form(request, line: Line, state: FollowUpState, *, status: int = 200, **extra):
    context = {
        "line": line,
        "fu": state,
        "mark_history": history_for(line, state.ref),
        "next": _next(request, line),
        # Only what is stored (or was just posted) is chosen: never a guess.
        "chosen_status": state.mark.status if state.mark else "",
        "note": state.mark.note if state.mark else "",
        **extra,
    }
    template = "followup/mark.html#dialog" if request.htmx else "followup/mark.html"
    return render(request, template, context, status=status)


def _later(at: datetime | None) -> Later:
    return Later(at, known=at is not None)


def _ref_from_query(request: HttpRequest, line: Line) -> CallRef | None:
    number = number_key(request.GET.get("n", "")[:64], line.default_region)
    try:
        called_at = datetime.fromtimestamp(int(request.GET.get("at", "")), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return CallRef(number, called_at) if number else None


def _safe(request: HttpRequest, target: str) -> bool:
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def _missed_tab(line: Line) -> str:
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})


def _next(request: HttpRequest, line: Line) -> str:
    """Where Save and Cancel go back to: the page the mark screen was opened from."""
    for target in (request.POST.get("next", ""), request.headers.get("Referer", "")):
        if _safe(request, target):
            return target
    return _missed_tab(line)


def _back(request: HttpRequest, line: Line) -> HttpResponse:
    target = request.POST.get("next", "")
    if _safe(request, target):
        # Not redirect(target): it would read a bare word ("open") as a URL pattern name.
        return HttpResponseRedirect(target)
    return redirect("line-calls", line_id=line.pk, kind="missed")
