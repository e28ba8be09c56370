from django.urls import path

from . import views

app_name = "appraisal"
urlpatterns = [
    path("", views.period_list, name="periods"),
    path("ledger/", views.ledger_page, name="ledger"),
    path("periods/<int:pk>/", views.period_detail, name="period"),
    path("periods/<int:pk>/compute/", views.period_compute, name="compute"),
    path("periods/<int:pk>/close/", views.period_close, name="close"),
    path("results/<int:pk>/", views.appraisal_detail, name="detail"),
    path("results/<int:pk>/sign/", views.appraisal_sign, name="sign"),
    path("results/<int:pk>/sheets/<int:template_id>/", views.sheet_form, name="sheet"),
]
