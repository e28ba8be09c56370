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
    path("sheets/", views.sheet_template_list, name="sheet_templates"),
    path("sheets/new/", views.sheet_template_new, name="sheet_template_new"),
    path("sheets/<int:pk>/", views.sheet_template_detail, name="sheet_template"),
    path("sheets/<int:pk>/active/", views.sheet_template_active, name="sheet_template_active"),
    path("schemes/", views.scheme_settings, name="schemes"),
]
