"""Template helpers shared by every app: times, masked phones, deadlines, query strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from kefu.core.phones import mask

register = template.Library()


@register.filter
def dt(value: datetime | None) -> str:
    """YYYY-MM-DD HH:mm in the local time zone, the format of every table (UI.md)."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@register.filter
def pct(value: float | None) -> str:
    """12.5 → "12.5%"; a rate without data (None) → "—"."""
    return "—" if value is None else f"{value}%"


@register.simple_tag(takes_context=True)
def phone(context: Any, number: str) -> str:
    """The number, or 138****1234 unless the page says the user may see phone numbers.

    Masked by default: a page that forgets to pass ``see_phone`` must not leak numbers.
    """
    return number if context.get("see_phone") is True else mask(number)


@register.simple_tag
def due_left(due: datetime | None, now: datetime) -> str:
    """'剩 3小时20分' or '超时 1天2小时' for a deadline."""
    if due is None:
        return ""
    delta = due - now
    overdue = delta.total_seconds() < 0
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days}天{hours}小时"
    elif hours:
        text = f"{hours}小时{minutes}分"
    else:
        text = f"{minutes}分钟"
    return f"超时 {text}" if overdue else f"剩 {text}"


@register.simple_tag(takes_context=True)
def query(context: Any, **changes: Any) -> str:
    """The current query string with ``changes`` applied (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()
