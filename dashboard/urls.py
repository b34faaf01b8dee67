from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from dashboard.accounts import views as account_views
from dashboard.calls import views as call_views
from dashboard.calls.converters import CallKindConverter

register_converter(CallKindConverter, "kind")

urlpatterns = [
    path("", call_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/preferences/", account_views.preferences, name="preferences"),
    path("lines/<int:line_id>/", call_views.line_home, name="line-home"),
    path("lines/<int:line_id>/<kind:kind>/", call_views.call_list, name="line-calls"),
    path("admin/", admin.site.urls),
]
