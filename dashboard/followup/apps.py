from django.apps import AppConfig


class FollowUpConfig(AppConfig):
    name = "dashboard.followup"
    label = "followup"
    verbose_name = "Missed-call follow-up"
