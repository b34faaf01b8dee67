"""Line management URLs, included under /lines/. Browsing a line's calls lives in calls."""

from django.urls import path

from dashboard.lines import views
from dashboard.webhooks import views as webhook_views

urlpatterns = [
    path("", views.line_list, name="line-list"),
    path("new/", views.line_create, name="line-create"),
    path("<int:line_id>/settings/", views.line_settings, name="line-settings"),
    path("<int:line_id>/key/", views.line_key, name="line-key"),
    path("<int:line_id>/key/check/", views.line_check, name="line-check"),
    path("<int:line_id>/share/", views.line_share, name="line-share"),
    path("<int:line_id>/share/remove/", views.line_unshare, name="line-unshare"),
    path("<int:line_id>/delete/", views.line_delete, name="line-delete"),
    path("<int:line_id>/audit/", views.line_audit, name="line-audit"),
    path("<int:line_id>/webhook/", webhook_views.line_webhook, name="line-webhook"),
]
