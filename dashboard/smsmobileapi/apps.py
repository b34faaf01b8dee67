from django.apps import AppConfig


class SmsMobileApiConfig(AppConfig):
    name = "dashboard.smsmobileapi"
    label = "smsmobileapi"
    verbose_name = "SMSMobileAPI client"

    def ready(self) -> None:
        from dashboard.smsmobileapi.logs import install_redaction

        install_redaction()
