from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_new, name="new"),
    path("export/", views.customer_export, name="export"),
    path("import/", views.customer_import, name="import"),
    path("import/template/", views.customer_import_template, name="import_template"),
    path("import/errors/", views.customer_import_errors, name="import_errors"),
    path("ownership/", views.ownership, name="ownership"),
    path("<int:pk>/assign/", views.customer_assign_view, name="assign"),
    path("<int:pk>/contact/", views.customer_contact_view, name="contact"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
]
