"""The customer's own confirmation link (链接确认): a one-time, unguessable, expiring link to a
phone-sized page where the customer confirms the work (or says it is not solved) and rates
the service 1–5 with a comment, stored against the ticket and its handler."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.org.models import Staff

from ..hooks import AFTER_TRANSITION
from ..lifecycle import ACTIONS, Kind, Status
from ..models import ConfirmLink, Ticket
from ..queries import is_handler
from ._common import _apply, _event
from .complaints import record_refusal
from .transitions import transition_changes

LINK_DAYS = 7


class LinkGone(ValidationFailed):
    """A link that was real but is used up or expired (410)."""

    status_code = 410


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirm_link_issue(*, ticket: Ticket, actor: Staff) -> str:
    """Make a link for the customer of a ticket waiting for confirmation; returns the token
    (shown once). Earlier unused links of the ticket stop working."""
    if ticket.status != Status.PENDING_CONFIRM:
        raise ValidationFailed(_("只有待确认的工单可以发送确认链接"))
    if not (actor.role in ACTIONS["confirm"].roles or is_handler(actor, ticket)):
        raise PermissionDenied(_("您没有发送确认链接的权限"))
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        ConfirmLink.objects.filter(ticket=ticket, used_at__isnull=True).update(expires_at=now)
        ConfirmLink.objects.create(
            ticket=ticket,
            digest=_digest(token),
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=LINK_DAYS),
        )
        _event(ticket, actor, "confirm_link", data={"expires": (now + timedelta(days=LINK_DAYS)).isoformat()})
    return token


def confirm_link_get(token: str) -> ConfirmLink:
    """The link behind ``token``: NotFound for anything unknown (nothing is revealed), LinkGone
    when it was used or has expired, or the ticket no longer waits for confirmation."""
    token = (token or "").strip()
    if not token or len(token) > 100:
        raise NotFound(_("链接无效"))
    link = ConfirmLink.objects.select_related("ticket__site", "ticket__assignee").filter(digest=_digest(token)).first()
    if link is None:
        raise NotFound(_("链接无效"))
    if link.used_at is not None:
        raise LinkGone(_("您已确认过，感谢您的评价"))
    if link.expires_at <= timezone.now() or link.ticket.status != Status.PENDING_CONFIRM:
        raise LinkGone(_("该链接已失效"))
    return link


def ticket_confirm_by_customer(*, token: str, solved: bool, rating: object, comment: str = "") -> Ticket:
    """The customer answers through the link: solved (confirmed, 链接确认) or not (back to the
    handler, or to 方案 for a complaint), with a 1–5 rating of the service and a comment."""
    link = confirm_link_get(token)
    errors: dict[str, list[str]] = {}
    try:
        score = int(str(rating))
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        errors["rating"] = [_("请为本次服务打分（1–5 星）")]
    comment = (comment or "").strip()
    if len(comment) > 500:
        errors["comment"] = [_("评价不能超过 500 字")]
    if "\x00" in comment:
        errors["comment"] = [_("包含无效的字符")]
    if not solved and not comment:
        errors["comment"] = [_("请告诉我们哪里还没有解决")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    now = timezone.now()
    with transaction.atomic():
        # The link is spent in the same transaction: two submissions cannot both pass.
        if not ConfirmLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now):
            raise LinkGone(_("您已确认过，感谢您的评价"))
        ticket = Ticket.objects.select_for_update().select_related("first_responder").get(pk=link.ticket_id)
        if ticket.status != Status.PENDING_CONFIRM:
            raise LinkGone(_("该链接已失效"))
        action = "confirm" if solved else "reject"
        who = (ticket.contact_name or _("客户"))[:50]
        # The customer is not staff: the rules of the move apply, the actor is nobody.
        target, fields = transition_changes(ticket=ticket, action=action, actor=ticket.first_responder, now=now)
        if solved:
            fields.update(confirmed_by=who, confirm_method="link")
        fields.update(
            rating=score, rating_comment=comment, rated_at=now, rated_staff=ticket.assignee or ticket.first_responder
        )
        from_status = ticket.status
        _apply(ticket, ticket.version, **fields)
        _event(
            ticket,
            None,
            action,
            from_status=from_status,
            to_status=target,
            note=comment,
            public=True,
            data={"via": "link", "rating": score, "confirmed_by": who if solved else ""},
            at=now,
        )
        if not solved and ticket.kind == Kind.COMPLAINT:
            record_refusal(ticket, comment)
        for hook in AFTER_TRANSITION:
            hook(ticket=ticket, action=action, actor=ticket.first_responder, at=now)
    return ticket
