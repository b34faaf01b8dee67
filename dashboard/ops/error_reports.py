"""Error reports (the DEBUG page, error e-mails, trackers fed by Django's filter) never
show an API key."""

from __future__ import annotations

from typing import Any

from django.views.debug import SafeExceptionReporterFilter


class KeySafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, active even with DEBUG on (a developer's debug page is still a
    page), and masking any value whose text carries an `apikey` parameter (request
    URLs, parameter dicts) in frames nobody marked sensitive."""

    def is_active(self, request) -> bool:
        return True

    def cleanse_special_types(self, request, value: Any) -> Any:
        value = super().cleanse_special_types(request, value)
        try:
            text = repr(value)
        except Exception:
            return value
        if "apikey" in text.lower():
            return self.cleansed_substitute
        return value
