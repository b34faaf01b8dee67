from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "dashboard.ops"
    label = "ops"
    verbose_name = "Operations: health, request log, metrics"

    def ready(self) -> None:
        from dashboard.ops import metrics, requestlog
        from dashboard.smsmobileapi import events

        events.subscribe(metrics.observe_upstream_call)
        events.subscribe(requestlog.observe_upstream_call)
