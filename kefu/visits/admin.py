from django.contrib import admin

from .models import VisitRules, VisitScript


@admin.register(VisitRules)
class VisitRulesAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quiet_hours", "max_attempts", "retry_minutes")
    filter_horizontal = ("team",)


@admin.register(VisitScript)
class VisitScriptAdmin(admin.ModelAdmin):
    list_display = ("name", "kinds", "is_active")
