from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("volume/", views.volume, name="volume"),
    path("pareto/", views.pareto, name="pareto"),
    path("sla/", views.sla, name="sla"),
    path("resolution/", views.resolution, name="resolution"),
    path("complaints/", views.complaint_ledger, name="complaints"),
    path("satisfaction/", views.satisfaction, name="satisfaction"),
    path("cards/", views.cards, name="cards"),
    path("workload/", views.workload, name="workload"),
    path("monthly/", views.monthly_list, name="monthly_list"),
    path("monthly/<int:pk>/", views.monthly_detail, name="monthly"),
]
