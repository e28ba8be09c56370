from django.urls import path

from . import views

app_name = "surveys"
urlpatterns = [
    path("", views.batch_list, name="batches"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<int:pk>/", views.template_detail, name="template"),
    path("templates/<int:pk>/copy/", views.template_copy, name="template_copy"),
    path("templates/<int:pk>/active/", views.template_active, name="template_active"),
    path("batches/new/", views.batch_new, name="batch_new"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/entry/<int:invitation_pk>/", views.entry, name="entry"),
    path("summary/", views.summary_view, name="summary"),
    # The customer's link: no login.
    path("s/<str:token>/", views.answer, name="answer"),
]
