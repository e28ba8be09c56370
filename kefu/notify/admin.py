from django.contrib import admin

from .models import ChannelTarget, Delivery, Notification, Preference


@admin.register(ChannelTarget)
class ChannelTargetAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "site", "is_active")
    list_filter = ("kind", "is_active", "site")
    search_fields = ("name",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "event", "recipient", "site", "created_at", "read_at")
    list_filter = ("event",)
    search_fields = ("title", "ref")
    raw_id_fields = ("recipient", "actor", "site")
    date_hierarchy = "created_at"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("channel", "status")
    raw_id_fields = ("notification", "channel_target")
    readonly_fields = ("claimed_until", "last_error")


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("staff", "channel", "event", "enabled")
    list_filter = ("channel",)
    raw_id_fields = ("staff",)
