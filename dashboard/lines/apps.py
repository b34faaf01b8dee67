from django.apps import AppConfig
from django.core import checks


class LinesConfig(AppConfig):
    name = "dashboard.lines"
    label = "lines"
    verbose_name = "Lines"

    def ready(self) -> None:
        checks.register(check_encryption_keys, checks.Tags.security)


def check_encryption_keys(app_configs, **kwargs):
    """Fail at startup, naming the setting, rather than on the first key read."""
    from django.core.exceptions import ImproperlyConfigured

    from dashboard.lines.crypto import validate_settings

    try:
        validate_settings()
    except ImproperlyConfigured as exc:
        return [checks.Critical(str(exc), id="lines.E001")]
    return []
