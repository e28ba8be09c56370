"""Template helpers of the ticket pages: labels of timeline events and statuses."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from kefu.tickets.lifecycle import ACTIONS, Status

register = template.Library()

_EVENT_EXTRA = {"created": _("受理登记"), "closed": _("关闭"), "note": _("内部备注"), "reply": _("答复客户")}


@register.filter
def event_label(code: str) -> str:
    return str(_EVENT_EXTRA.get(code) or (ACTIONS[code].label if code in ACTIONS else code))


@register.filter
def status_label(code: str) -> str:
    return str(Status(code).label) if code in Status.values else code
