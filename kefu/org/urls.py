from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="org/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("site/", views.switch_site, name="switch_site"),
    path("settings/calendar/", views.calendar_settings, name="calendar_settings"),
    path("settings/calendar/<slug:what>/", views.calendar_action, name="calendar_action"),
    path("settings/calendar/<slug:what>/<int:key>/", views.calendar_action, name="calendar_action"),
]
