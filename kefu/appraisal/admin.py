from django.contrib import admin

from .models import Period, RewardPenalty, Scheme, SheetItem, SheetTemplate


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("role", "handled_target", "sheet_share", "praise_points", "updated_by", "updated_at")
    readonly_fields = ("updated_by", "updated_at")


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ("name", "start", "end", "status", "computed_at")


@admin.register(RewardPenalty)
class RewardPenaltyAdmin(admin.ModelAdmin):
    list_display = ("day", "staff", "kind", "points", "amount", "reason")
    list_filter = ("kind",)


class SheetItemInline(admin.TabularInline):
    model = SheetItem
    extra = 3


@admin.register(SheetTemplate)
class SheetTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "is_active")
    inlines = [SheetItemInline]
