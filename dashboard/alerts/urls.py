"""A line's alerts, included under /lines/<line_id>/alerts/."""

from django.urls import path

from dashboard.alerts import views

urlpatterns = [
    path("", views.alerts_page, name="line-alerts"),
    path("rule/", views.rule_form, name="alert-rule"),
    path("rule/delete/", views.rule_delete, name="alert-rule-delete"),
    path("destination/", views.destination_form, name="alert-destination"),
    path("destination/delete/", views.destination_delete, name="alert-destination-delete"),
    path("destination/test/", views.destination_test, name="alert-destination-test"),
    path("resend/", views.delivery_resend, name="alert-resend"),
    path("me/", views.my_preference, name="alert-preference"),
]
