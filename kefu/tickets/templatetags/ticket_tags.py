"""Template helpers of the ticket pages: labels of timeline events and statuses."""

from __future__ import annotations

from django import template

from kefu.tickets.lifecycle import ACTIONS, Status

register = template.Library()

_EVENT_EXTRA = {"created": "受理登记", "closed": "关闭", "note": "内部备注", "reply": "答复客户"}


@register.filter
def event_label(code: str) -> str:
    return _EVENT_EXTRA.get(code) or (ACTIONS[code].label if code in ACTIONS else code)


@register.filter
def status_label(code: str) -> str:
    return str(Status(code).label) if code in Status.values else code
