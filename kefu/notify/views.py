"""Notification pages: my notifications, my channel choices, and the delivery status page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError, PermissionDenied
from kefu.core.lookup import by_pk
from kefu.core.web import paginate
from kefu.org.models import Staff
from kefu.org.permissions import can
from kefu.org.web import staff_view

from .models import EVENTS, Channel, Delivery
from .queries import default_enabled, deliveries_for, notifications_for, preferences_of
from .services import delivery_retry, notification_mark_read, preferences_save


@staff_view
def notification_list(request: HttpRequest, me: Staff) -> HttpResponse:
    """我的通知: unread first; each entry opens its link and is marked read on the way."""
    qs = notifications_for(me)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = paginate(request, qs)
    context = {
        "page_title": _("我的通知"),
        "page": page,
        "notifications": page.object_list,
        "unread_only": unread_only,
        "can_deliveries": can(me.role, "notify.deliveries"),
    }
    return render(request, "notify/list.html", context)


@staff_view
@require_POST
def notification_open(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    """Mark one notification read and go to what it is about."""
    notification = by_pk(notifications_for(me), pk)
    if notification is None:
        raise Http404
    notification_mark_read(staff=me, ids=[notification.pk])
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notify:list")


@staff_view
@require_POST
def notification_read(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    if notification_mark_read(staff=me, ids=[pk]) == 0 and not notifications_for(me).filter(pk=pk).exists():
        raise Http404
    return _back(request)


@staff_view
@require_POST
def notification_read_all(request: HttpRequest, me: Staff) -> HttpResponse:
    count = notification_mark_read(staff=me)
    messages.success(request, _("已将 {count} 条通知标为已读").format(count=count))
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    back = request.META.get("HTTP_REFERER", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("notify:list")


# --- preferences ----------------------------------------------------------------------------

# The select on the per-event rows: follow the channel's choice, or on, or off.
FOLLOW, ON, OFF = "", "on", "off"


def _preferences_context(me: Staff) -> dict[str, Any]:
    saved = preferences_of(me)
    has_email = bool(me.user.email)
    channels = [
        {
            "value": c.value,
            "label": c.label,
            "enabled": saved.get((c.value, ""), default_enabled(c.value, has_email=has_email)),
        }
        for c in Channel
    ]
    events = []
    for code, label in EVENTS.items():
        cells = []
        for c in Channel:
            choice = saved.get((c.value, code))
            cells.append(
                {
                    "name": f"{c.value}:{code}",
                    "value": FOLLOW if choice is None else (ON if choice else OFF),
                }
            )
        events.append({"code": code, "label": label, "cells": cells})
    return {
        "page_title": _("通知设置"),
        "channels": channels,
        "events": events,
        "has_email": has_email,
        "has_phone": bool(me.phone),
    }


@staff_view
def preferences(request: HttpRequest, me: Staff) -> HttpResponse:
    """通知设置: each channel on or off, and, per event, follow / on / off."""
    if request.method == "POST":
        post = request.POST
        choices: dict[tuple[str, str], bool | None] = {}
        for c in Channel:
            choices[(c.value, "")] = post.get(f"channel:{c.value}") == "1"
            for code in EVENTS:
                value = post.get(f"{c.value}:{code}", FOLLOW)
                choices[(c.value, code)] = None if value not in (ON, OFF) else value == ON
        try:
            preferences_save(staff=me, choices=choices, actor=me)
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.message)
            return render(request, "notify/preferences.html", _preferences_context(me), status=exc.status_code)
        messages.success(request, _("通知设置已保存"))
        return redirect("notify:preferences")
    return render(request, "notify/preferences.html", _preferences_context(me))


# --- delivery status (managers) ----------------------------------------------------------------


@staff_view
def delivery_list(request: HttpRequest, me: Staff) -> HttpResponse:
    """投递状态: every external send in the manager's scope, with attempts and last error."""
    if not can(me.role, "notify.deliveries"):
        raise PermissionDenied(_("您没有查看通知投递的权限"))
    qs = deliveries_for(me).order_by("-id")
    status = request.GET.get("status", "")
    if status in Delivery.Status.values:
        qs = qs.filter(status=status)
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    page = paginate(request, qs)
    context = {
        "page_title": _("通知投递"),
        "page": page,
        "deliveries": page.object_list,
        "statuses": Delivery.Status.choices,
        "channels": Channel.choices,
        "f": {"status": status, "channel": channel},
        "retryable": (Delivery.Status.FAILED, Delivery.Status.DEAD),
    }
    return render(request, "notify/deliveries.html", context)


@staff_view
@require_POST
def delivery_retry_now(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    if not can(me.role, "notify.deliveries"):
        raise PermissionDenied(_("您没有管理通知投递的权限"))
    delivery = by_pk(deliveries_for(me), pk)
    if delivery is None:
        raise Http404
    try:
        delivery = delivery_retry(delivery=delivery, actor=me)
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
    else:
        if delivery.status == Delivery.Status.SENT:
            messages.success(request, _("已重新发送"))
        else:
            messages.success(request, _("已安排重新发送"))
    return _back(request)
