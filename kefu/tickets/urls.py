from django.urls import path

from . import views
from .views import confirm_link, first_response, policies, warnings

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("export/", views.ticket_export, name="export"),
    path("intake/", views.intake, name="intake"),
    path("intake/lookup/", views.intake_lookup, name="intake_lookup"),
    path("categories/", views.category_tree, name="categories"),
    path("approvals/", views.approvals, name="approvals"),
    path("sla-settings/", policies.sla_settings, name="sla_settings"),
    path("first-response/", first_response.first_response, name="first_response"),
    path("handovers/<int:pk>/<slug:answer>/", first_response.handover_answer, name="handover_answer"),
    path("warnings/", warnings.warning_list, name="warnings"),
    path("warnings/export/", warnings.warning_export, name="warning_export"),
    path("warnings/<int:pk>/revoke/", warnings.warning_revoke_view, name="warning_revoke"),
    path("m/", views.mobile, name="mobile"),
    path("m/<int:pk>/", views.mobile_detail, name="mobile_detail"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/note/", views.ticket_note, name="note"),
    path("<int:pk>/assignees/", views.assignee_options, name="assignee_options"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<int:pk>/serious/", warnings.ticket_serious, name="serious"),
    path("<int:pk>/hand-over/", first_response.hand_over, name="hand_over"),
    path("<int:pk>/confirm-link/", confirm_link.confirm_link_new, name="confirm_link_new"),
    path("<int:pk>/<slug:action>/", views.ticket_action, name="action"),
]
