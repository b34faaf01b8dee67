"""Marking missed calls: CSRF-protected POSTs (htmx swaps the row's follow-up cell in place;
without JavaScript the form posts and comes back to the page it was sent from)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard.followup.forms import MarkForm
from dashboard.followup.later import Later
from dashboard.followup.marks import history_for, marks_for, set_mark
from dashboard.followup.state import FollowUpState
from dashboard.lines.access import line_view
from dashboard.lines.models import Line


# Browse access is enough: following up missed calls is support staff's job.
@line_view()
@require_POST
def mark(request: HttpRequest, line: Line) -> HttpResponse:
    form = MarkForm(request.POST, region=line.default_region)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        if request.htmx:
            # 200 so htmx swaps it in: the message belongs next to the control.
            return render(
                request, "followup/cell.html", {"line": line, "errors": errors, "fu": None}
            )
        for error in errors:
            messages.error(request, error)
        return _back(request, line)
    set_mark(line, request.user, form.ref, form.new_status, form.cleaned_data["note"])
    if not request.htmx:
        return _back(request, line)
    later_at = form.cleaned_data["later"]
    state = FollowUpState(
        form.ref,
        marks_for(line, [form.ref]).get(form.ref),
        Later(later_at, known=later_at is not None),
    )
    context = {
        "line": line,
        "fu": state,
        "mark_history": history_for(line, form.ref),
        "saved": True,
    }
    return render(request, "followup/cell.html", context)


def _back(request: HttpRequest, line: Line) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        # Not redirect(target): it would read a bare word ("open") as a URL pattern name.
        return HttpResponseRedirect(target)
    return redirect("line-calls", line_id=line.pk, kind="missed")
