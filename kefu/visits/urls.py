from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("", views.visit_queue, name="queue"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("coverage/", views.coverage, name="coverage"),
    path("report/", views.report, name="report"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.visit_action, name="action"),
]
