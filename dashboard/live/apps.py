from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "dashboard.live"
    verbose_name = "Live views"
