from django.contrib import admin
from django.urls import include, path

from kefu.api import api

urlpatterns = [
    path("", include("kefu.org.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
