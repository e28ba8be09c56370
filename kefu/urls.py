from django.contrib import admin
from django.urls import include, path

from kefu.api import api
from kefu.tickets.views import home
from kefu.tickets.views.confirm_link import customer_confirm
from kefu.tickets.views.search import global_search

admin.site.site_header = "客服中心管理系统 · 系统设置"
admin.site.site_title = "系统设置"

urlpatterns = [
    path("", home, name="home"),
    path("", include("kefu.org.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("search/", global_search, name="search"),
    path("visits/", include("kefu.visits.urls")),
    path("surveys/", include("kefu.surveys.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("appraisal/", include("kefu.appraisal.urls")),
    path("notifications/", include("kefu.notify.urls")),
    path("c/<str:token>/", customer_confirm, name="confirm_link"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
