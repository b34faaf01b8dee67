from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "dashboard.webhooks"
    verbose_name = "Webhooks"
