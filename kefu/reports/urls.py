from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("volume/", views.volume, name="volume"),
    path("pareto/", views.pareto, name="pareto"),
    path("sla/", views.sla, name="sla"),
]
