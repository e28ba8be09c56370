from django.contrib import admin

from .models import Department, Site, Skill, Staff


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "is_active")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "is_active")


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ("name", "employee_no", "role", "department", "superior", "is_active")
    list_filter = ("role", "department", "is_active", "sites")
    search_fields = ("name", "employee_no", "user__username")
    filter_horizontal = ("sites", "skills")
    raw_id_fields = ("user", "superior")
