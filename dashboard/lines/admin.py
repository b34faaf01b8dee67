from django.contrib import admin

from dashboard.lines.models import AccessLogEntry, AuditEvent, Line


class ReadOnlyAdmin(admin.ModelAdmin):
    """Trails are evidence: staff can read them (deleted lines' included), not edit them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Line)
class LineAdmin(ReadOnlyAdmin):
    """Read-only: every change to a line goes through the app (dashboard/lines/services.py),
    where it is checked live and written to the audit trail; the admin would bypass both.
    The key itself is never shown, only its hint."""

    list_display = ("label", "owner", "key_hint", "key_status", "updated_at")
    search_fields = ("label", "owner__username")
    fields = (
        "label",
        "owner",
        "key_hint",
        "default_region",
        "shared_with_users",
        "shared_with_groups",
        "key_status",
        "key_checked_at",
    )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "action", "line_label", "line_ref", "summary")
    list_filter = ("action",)
    search_fields = ("line_label", "actor_name")
    date_hierarchy = "created_at"


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "username", "line_label", "kind")
    list_filter = ("kind",)
    search_fields = ("username", "line_label")
    date_hierarchy = "created_at"
