from django.contrib import admin

from dashboard.lines.models import Line


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    """Read-mostly: the key itself is neither shown nor editable here (only its hint)."""

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
    readonly_fields = ("key_hint", "key_status", "key_checked_at")
    filter_horizontal = ("shared_with_users", "shared_with_groups")

    def has_add_permission(self, request) -> bool:
        # Adding needs a key, which goes through the app's form (live check, encryption).
        return False
