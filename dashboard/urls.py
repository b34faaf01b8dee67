from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from dashboard.accounts import views as account_views
from dashboard.calls import views as call_views
from dashboard.calls.converters import CallKindConverter
from dashboard.followup import views as followup_views
from dashboard.inbox import views as inbox_views
from dashboard.live import views as live_views
from dashboard.ops.metrics import metrics_view
from dashboard.reports import views as report_views
from dashboard.webhooks import receiver as webhook_receiver

register_converter(CallKindConverter, "kind")

urlpatterns = [
    path("", call_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/preferences/", account_views.preferences, name="preferences"),
    # app.js reports the browser's own time zone here (a POST, CSRF-checked).
    path("accounts/browser-time-zone/", account_views.browser_time_zone, name="browser-time-zone"),
    # Django's set_language (POST, CSRF): the top bar's language switcher; it stores the
    # choice in the language cookie and redirects back to the page it came from.
    path("i18n/", include("django.conf.urls.i18n")),
    # Line management (list, add, settings, key, sharing, delete, audit).
    path("lines/", include("dashboard.lines.urls")),
    path("lines/<int:line_id>/", call_views.line_home, name="line-home"),
    # Reports: before the generic per-kind route, should a kind ever be spelled like them.
    path("lines/<int:line_id>/overview/", report_views.overview, name="line-overview"),
    path(
        "lines/<int:line_id>/overview/content/",
        report_views.overview_content,
        name="line-overview-content",
    ),
    path(
        "lines/<int:line_id>/all/export.csv",
        report_views.export_timeline_csv,
        name="line-timeline-export",
    ),
    path(
        "lines/<int:line_id>/<kind:kind>/export.csv",
        report_views.export_csv,
        name="line-export",
    ),
    # Support workflow: the merged timeline, caller pages, follow-up marks (POST).
    path("lines/<int:line_id>/alerts/", include("dashboard.alerts.urls")),
    path("lines/<int:line_id>/all/", call_views.timeline, name="line-timeline"),
    path("lines/<int:line_id>/callers/<str:number>/", call_views.caller, name="line-caller"),
    path("lines/<int:line_id>/followup/", followup_views.mark, name="followup-mark"),
    # The missed-call inbox: one row per caller (dashboard/inbox/).
    path("lines/<int:line_id>/inbox/", inbox_views.inbox, name="line-inbox"),
    path("lines/<int:line_id>/inbox/bulk/", inbox_views.bulk, name="line-inbox-bulk"),
    path("lines/<int:line_id>/inbox/export.csv", inbox_views.export_csv, name="line-inbox-export"),
    path(
        "lines/<int:line_id>/inbox/settings/",
        inbox_views.target_settings,
        name="line-inbox-settings",
    ),
    path(
        "lines/<int:line_id>/inbox/<int:episode_id>/",
        inbox_views.caller,
        name="line-inbox-caller",
    ),
    # Live views: the stream (served by the live process; README "Live updates") and the
    # row of one pushed call.
    path("lines/<int:line_id>/live/", live_views.line_live, name="line-live"),
    path(
        "lines/<int:line_id>/live/<int:event_id>/row/",
        live_views.live_row,
        name="line-live-row",
    ),
    path("lines/<int:line_id>/<kind:kind>/", call_views.call_list, name="line-calls"),
    # The provider's deliveries (answered by WebhookMiddleware, before sessions and CSRF).
    path(
        "webhooks/smsmobileapi/<str:token>/",
        webhook_receiver.receive,
        name="webhook-receive",
    ),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
]
