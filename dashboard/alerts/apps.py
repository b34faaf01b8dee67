from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "dashboard.alerts"
    label = "alerts"
    verbose_name = "Alerts: rules, destinations, deliveries"

    def ready(self) -> None:
        from dashboard.alerts import logs

        logs.quiet_apprise()
