from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "dashboard.calls"
    label = "calls"
    verbose_name = "Calls"
