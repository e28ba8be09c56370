"""Reads of notifications: mine, my unread count, the deliveries a manager sees, what is due."""

from __future__ import annotations

from datetime import datetime

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from kefu.org.models import Staff
from kefu.org.permissions import ALL_SITES_ROLES
from kefu.org.queries import site_ids_for

from .models import Channel, Delivery, Notification, Preference

# The states a delivery can still be sent from; with ``next_attempt_at`` they make the
# partial index the sweep reads.
ACTIVE = (Delivery.Status.PENDING, Delivery.Status.FAILED, Delivery.Status.SENDING)


def notifications_for(staff: Staff) -> QuerySet[Notification]:
    """A staff member's own notifications, unread first, then newest first."""
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return (
        Notification.objects.filter(recipient=staff)
        .select_related("site")
        .order_by(unread.desc(), "-created_at", "-id")
    )


def unread_count(staff_id: int) -> int:
    """One COUNT on the (recipient, read_at) index."""
    return Notification.objects.filter(recipient_id=staff_id, read_at__isnull=True).count()


def deliveries_for(staff: Staff) -> QuerySet[Delivery]:
    """Deliveries a manager may watch: of notifications about their sites, or company-wide
    ones sent to somebody posted at one of their sites. Directors and admins see all."""
    qs = Delivery.objects.select_related("notification__recipient", "notification__site", "channel_target")
    if staff.role in ALL_SITES_ROLES:
        return qs
    sites = site_ids_for(staff)
    return qs.filter(
        Q(notification__site_id__in=sites)
        | Q(notification__site__isnull=True, notification__recipient__sites__in=sites)
    ).distinct()


def deliveries_due(now: datetime) -> QuerySet[Delivery]:
    """Rows a worker may claim now: waiting (pending, or failed and past the back-off) or
    held by a worker whose lease ran out. Oldest due first, on the partial index."""
    return Delivery.objects.filter(status__in=ACTIVE, next_attempt_at__lte=now).order_by("next_attempt_at", "id")


def default_enabled(channel: str, *, has_email: bool) -> bool:
    """Without a saved choice: e-mail when there is an address, WeCom yes, SMS no."""
    if channel == Channel.EMAIL:
        return has_email
    return channel == Channel.WECOM


def preferences_of(staff: Staff) -> dict[tuple[str, str], bool]:
    """``{(channel, event): enabled}`` of the rows saved; event "" is the channel default."""
    rows = Preference.objects.filter(staff=staff).values_list("channel", "event", "enabled")
    return {(channel, event): enabled for channel, event, enabled in rows}


def channel_enabled(saved: dict[tuple[str, str], bool], channel: str, event: str, *, has_email: bool) -> bool:
    """The choice for one event: its own row, else the channel row, else the default."""
    if (channel, event) in saved:
        return saved[(channel, event)]
    if (channel, "") in saved:
        return saved[(channel, "")]
    return default_enabled(channel, has_email=has_email)
