"""Managing lines: list, add, settings, key, sharing, delete, audit.

Every view taking a line goes through `line_view` (dashboard/lines/access.py), placed
outermost so the access check runs before anything else, even the method check. Views that
receive a key are marked `sensitive_post_parameters`, so error reports never show it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from dashboard.lines import services
from dashboard.lines.access import line_view
from dashboard.lines.audit import retention_days
from dashboard.lines.forms import (
    LineCreateForm,
    LineSettingsForm,
    ReplaceKeyForm,
    ShareForm,
    UnshareForm,
)
from dashboard.lines.key_check import KeyCheck
from dashboard.lines.models import AccessLogEntry, AuditEvent, KeyStatus, Line

AUDIT_PAGE_SIZE = 200


def _report_check(request: HttpRequest, result: KeyCheck) -> None:
    """One message for the check's outcome; anything short of valid is a warning."""
    if result.status == KeyStatus.VALID:
        messages.success(request, result.message)
    else:
        messages.warning(request, result.message)


def _apply_error(form, error: services.LineError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
@require_safe
def line_list(request: HttpRequest) -> HttpResponse:
    lines = (
        Line.objects.visible_to(request.user)
        .select_related("owner")
        .prefetch_related("shared_with_users", "shared_with_groups")
    )
    rows = [(line, line.can_manage(request.user)) for line in lines]
    return render(request, "lines/line_list.html", {"rows": rows, "lines_shown": lines})


@login_required
@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
def line_create(request: HttpRequest) -> HttpResponse:
    form = LineCreateForm(request.POST if request.method == "POST" else None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            line, result = services.create_line(
                request.user,
                form.cleaned_data["label"],
                form.cleaned_data["api_key"],
                default_region=form.cleaned_data["default_region"],
                actor=request.user,
            )
        except services.LineError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Line “%(label)s” added.") % {"label": line.label})
            _report_check(request, result)
            return redirect("line-settings", line_id=line.pk)
    return render(request, "lines/line_create.html", {"form": form})


@line_view(manage=True)
@require_http_methods(["GET", "POST"])
def line_settings(request: HttpRequest, line: Line) -> HttpResponse:
    form = LineSettingsForm(request.POST if request.method == "POST" else None, line=line)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(
                line,
                label=form.cleaned_data["label"],
                default_region=form.cleaned_data["default_region"],
                actor=request.user,
            )
        except services.LineError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("line-settings", line_id=line.pk)
    return render(request, "lines/line_settings.html", {"line": line, "form": form})


@line_view(manage=True)
@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
def line_key(request: HttpRequest, line: Line) -> HttpResponse:
    form = ReplaceKeyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.replace_key(line, form.cleaned_data["api_key"], actor=request.user)
        except services.LineError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("API key replaced."))
            _report_check(request, result)
            return redirect("line-settings", line_id=line.pk)
    return render(request, "lines/line_key.html", {"line": line, "form": form})


@line_view(manage=True)
@require_POST
def line_check(request: HttpRequest, line: Line) -> HttpResponse:
    try:
        result = services.recheck_key(line, actor=request.user)
    except services.LineError as error:
        messages.error(request, error.message)
    else:
        if result.status == KeyStatus.REJECTED:
            messages.error(request, _("SMSMobileAPI rejects the stored key. Replace it below."))
        else:
            _report_check(request, result)
    return redirect("line-key", line_id=line.pk)


@line_view(manage=True)
@require_http_methods(["GET", "POST"])
def line_share(request: HttpRequest, line: Line) -> HttpResponse:
    form = ShareForm(request.POST if request.method == "POST" else None, line=line)
    if request.method == "POST" and form.is_valid():
        shares = []
        if form.user_obj is not None:
            added = services.share_with_user(line, form.user_obj, actor=request.user)
            shares.append((form.user_obj.get_username(), added))
        if form.group_obj is not None:
            added = services.share_with_group(line, form.group_obj, actor=request.user)
            shares.append((form.group_obj.name, added))
        for name, added in shares:
            if added:
                messages.success(request, _("Shared with “%(name)s”.") % {"name": name})
            else:
                messages.info(request, _("“%(name)s” already has access.") % {"name": name})
        return redirect("line-share", line_id=line.pk)
    context = {
        "line": line,
        "form": form,
        "shared_users": line.shared_with_users.order_by("username"),
        "shared_groups": line.shared_with_groups.order_by("name"),
    }
    return render(request, "lines/line_share.html", context)


@line_view(manage=True)
@require_POST
def line_unshare(request: HttpRequest, line: Line) -> HttpResponse:
    form = UnshareForm(request.POST, line=line)
    if not form.is_valid():
        for error in form.non_field_errors() or [_("Nothing to remove.")]:
            messages.error(request, error)
        return redirect("line-share", line_id=line.pk)
    removed = []
    if form.user_obj is not None:
        services.unshare_user(line, form.user_obj, actor=request.user)
        removed.append(form.user_obj.get_username())
    if form.group_obj is not None:
        services.unshare_group(line, form.group_obj, actor=request.user)
        removed.append(form.group_obj.name)
    for name in removed:
        messages.success(request, _("“%(name)s” no longer has access.") % {"name": name})
    return redirect("line-share", line_id=line.pk)


@line_view(manage=True)
@require_http_methods(["GET", "POST"])
def line_delete(request: HttpRequest, line: Line) -> HttpResponse:
    if request.method == "POST":
        label = line.label
        services.delete_line(line, actor=request.user)
        messages.success(request, _("Line “%(label)s” deleted.") % {"label": label})
        return redirect("line-list")
    return render(request, "lines/line_delete.html", {"line": line})


@line_view(manage=True)
@require_safe
def line_audit(request: HttpRequest, line: Line) -> HttpResponse:
    events = AuditEvent.objects.filter(line=line).select_related("actor")[:AUDIT_PAGE_SIZE]
    accesses = AccessLogEntry.objects.filter(line=line)[:AUDIT_PAGE_SIZE]
    context = {
        "line": line,
        "events": events,
        "accesses": accesses,
        "retention_days": retention_days(),
    }
    return render(request, "lines/line_audit.html", context)
