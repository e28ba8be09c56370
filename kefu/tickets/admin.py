from django.contrib import admin

from .models import Category, SlaPolicy, Ticket


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "department", "skill", "sort", "is_active")
    list_filter = ("is_active", "department")
    search_fields = ("name",)
    autocomplete_fields = ("parent",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("site", "kind", "urgency", "respond_minutes", "arrive_minutes", "resolve_minutes", "business_hours")
    list_filter = ("site", "kind", "urgency", "business_hours")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("number", "site", "kind", "status", "created_at")
    list_filter = ("site", "kind", "status")
    search_fields = ("number",)
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Tickets change only through the services (timeline, version); admin is read-only.
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
