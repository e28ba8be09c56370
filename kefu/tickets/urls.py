from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("export/", views.ticket_export, name="export"),
    path("intake/", views.intake, name="intake"),
    path("intake/lookup/", views.intake_lookup, name="intake_lookup"),
    path("categories/", views.category_tree, name="categories"),
    path("approvals/", views.approvals, name="approvals"),
    path("m/", views.mobile, name="mobile"),
    path("m/<int:pk>/", views.mobile_detail, name="mobile_detail"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/note/", views.ticket_note, name="note"),
    path("<int:pk>/assignees/", views.assignee_options, name="assignee_options"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<int:pk>/<slug:action>/", views.ticket_action, name="action"),
]
