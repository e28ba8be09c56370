"""Template helpers of the ticket pages: labels of timeline events and statuses, search highlights."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from kefu.tickets import search
from kefu.tickets.lifecycle import ACTIONS, Kind, Status
from kefu.tickets.models import WarningCard
from kefu.tickets.search import SearchQuery

register = template.Library()

_EVENT_EXTRA = {
    "created": _("受理登记"),
    "closed": _("关闭"),
    "note": _("内部备注"),
    "reply": _("答复客户"),
    "major": _("重大投诉"),
    "warning": _("警告卡"),
    "warning_revoked": _("撤销警告卡"),
    "escalated": _("超时升级"),
    "handover": _("移交首问责任"),
    "handover_accepted": _("接收首问责任"),
    "handover_declined": _("拒绝接收首问责任"),
    "visit_planned": _("生成回访任务"),
    "visit_done": _("回访"),
    "visit_unreachable": _("回访未接通"),
    "followup": _("生成后续投诉"),
    "confirm_link": _("生成客户确认链接"),
}


@register.filter
def event_label(code: str) -> str:
    return str(_EVENT_EXTRA.get(code) or (ACTIONS[code].label if code in ACTIONS else code))


# Labels by code, for the tables: ``get_kind_display`` and the like hash every lazy label of
# the field's choices on each call (a translation each), ~1,800 for a table of 50 tickets.
_LABELS: dict[str, dict[str, Any]] = {
    "kind": dict(Kind.choices),
    "status": dict(Status.choices),
    "card_color": dict(WarningCard.Color.choices),
    "card_rule": dict(WarningCard.Rule.choices),
}


def _label(kind: str, code: str) -> str:
    label = _LABELS[kind].get(code)
    return code if label is None else str(label)


@register.filter
def status_label(code: str) -> str:
    return _label("status", code)


@register.filter
def kind_label(code: str) -> str:
    return _label("kind", code)


@register.filter
def card_color_label(code: str) -> str:
    return _label("card_color", code)


@register.filter
def card_rule_label(code: str) -> str:
    return _label("card_rule", code)


@register.filter
def thousands(number: int) -> str:
    """12345 → "12,345" (counts under tables)."""
    return f"{number:,}"


@register.simple_tag
def sla_delta(minutes: int | None) -> str:
    """'提前 12 分钟' / '超时 1小时5分' for a deadline once met, as a coloured tag."""
    if minutes is None:
        return ""
    late = minutes > 0
    text = _minutes_text(abs(minutes))
    if late:
        label, color = _("超时 {text}").format(text=text), "danger"
    else:
        label, color = _("提前 {text}").format(text=text), "success"
    return format_html('<span class="tag tag-{}">{}</span>', color, label)


def _minutes_text(minutes: int) -> str:
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("{d}天{h}小时").format(d=days, h=hours)
    if hours:
        return _("{h}小时{m}分").format(h=hours, m=mins)
    return _("{m}分钟").format(m=mins)


@register.filter
def highlight(text: str, query: SearchQuery | None) -> SafeString:
    """``text`` escaped, the words ``query`` matched in ``<mark>``; an excerpt that starts
    just before the first match."""
    return search.highlight(text, query, limit=80, before=8)
