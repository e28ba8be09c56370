"""First-responder duty (首问责任制, seed 004): whoever takes a ticket answers for it until it
is closed, or until someone else has formally taken the duty over. A hand-over is recorded
when offered and takes effect only when the receiver acknowledges it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.notify.services import notify
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES, can
from kefu.org.queries import site_ids_for

from ..lifecycle import ENDED
from ..models import Handover, Ticket
from ._common import _apply, _event


def first_responder_hand_over(*, ticket: Ticket, actor: Staff, to: Staff | None, reason: str) -> Handover:
    """Offer the first-responder duty of ``ticket`` to ``to``. The first responder (or a
    supervisor and above) may; the receiver must be able to take tickets at the site."""
    if actor.id != ticket.first_responder_id and actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有首问责任人或主管及以上可以移交首问责任"))
    if ticket.status in ENDED:
        raise ValidationFailed(_("工单已结束，无需移交首问责任"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if to is None:
        errors["to"] = [_("请选择接收人")]
    elif not to.is_active or not can(to.role, "tickets.intake") or ticket.site_id not in site_ids_for(to):
        errors["to"] = [_("接收人须为该项目在岗的受理人员")]
    elif to.id == ticket.first_responder_id:
        errors["to"] = [_("接收人已是首问责任人")]
    if not reason:
        errors["reason"] = [_("请填写移交原因")]
    elif len(reason) > 200:
        errors["reason"] = [_("原因不能超过 200 字")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert to is not None
    try:
        with transaction.atomic():
            handover = Handover.objects.create(
                ticket=ticket, from_staff=ticket.first_responder, to_staff=to, by=actor, reason=reason
            )
            _event(
                ticket,
                actor,
                "handover",
                note=reason,
                data={"from": ticket.first_responder.name, "to": to.name, "handover": handover.pk},
            )
            notify(
                recipients=[to],
                event="first_response.handover",
                title=_("请确认接收首问责任：{number}").format(number=ticket.number),
                body=_("{who} 将工单 {number} 的首问责任移交给您：{reason}").format(
                    who=actor.name, number=ticket.number, reason=reason
                ),
                link=f"/tickets/{ticket.pk}/",
                ref=f"ticket:{ticket.pk}",
                site=ticket.site,
                actor=actor,
            )
    except IntegrityError:
        raise ValidationFailed(_("该工单已有待确认的移交")) from None
    return handover


def handover_accept(*, handover: Handover, actor: Staff, note: str = "") -> Ticket:
    """The receiver acknowledges: from now on they are the ticket's first responder."""
    _check_receiver(handover, actor)
    now = timezone.now()
    with transaction.atomic():
        # The state moves only from pending, so a double click or a race accepts once.
        if not Handover.objects.filter(pk=handover.pk, state=Handover.State.PENDING).update(
            state=Handover.State.ACCEPTED, answered_at=now, answer_note=(note or "").strip()[:200]
        ):
            raise ValidationFailed(_("该移交已处理"))
        ticket = Ticket.objects.select_related("site", "first_responder").get(pk=handover.ticket_id)
        previous = ticket.first_responder
        _apply(ticket, ticket.version, first_responder=actor)
        _event(ticket, actor, "handover_accepted", note=note, data={"from": previous.name, "to": actor.name})
        notify(
            recipients=[handover.from_staff, handover.by],
            event="first_response.handover",
            title=_("首问责任已接收：{number}").format(number=ticket.number),
            body=_("{who} 已确认接收工单 {number} 的首问责任。").format(who=actor.name, number=ticket.number),
            link=f"/tickets/{ticket.pk}/",
            ref=f"ticket:{ticket.pk}",
            site=ticket.site,
            actor=actor,
        )
    handover.state, handover.answered_at = Handover.State.ACCEPTED, now
    return ticket


def handover_decline(*, handover: Handover, actor: Staff, note: str) -> Handover:
    """The receiver declines, with a reason; the first responder keeps the duty."""
    _check_receiver(handover, actor)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("请填写拒绝原因"), field="note")
    if len(note) > 200:
        raise ValidationFailed(_("原因不能超过 200 字"), field="note")
    now = timezone.now()
    with transaction.atomic():
        if not Handover.objects.filter(pk=handover.pk, state=Handover.State.PENDING).update(
            state=Handover.State.DECLINED, answered_at=now, answer_note=note
        ):
            raise ValidationFailed(_("该移交已处理"))
        ticket = Ticket.objects.select_related("site").get(pk=handover.ticket_id)
        _event(ticket, actor, "handover_declined", note=note, data={"to": actor.name})
        notify(
            recipients=[handover.from_staff, handover.by],
            event="first_response.handover",
            title=_("首问责任移交被拒绝：{number}").format(number=ticket.number),
            body=_("{who} 未接收工单 {number} 的首问责任：{note}").format(
                who=actor.name, number=ticket.number, note=note
            ),
            link=f"/tickets/{ticket.pk}/",
            ref=f"ticket:{ticket.pk}",
            site=ticket.site,
            actor=actor,
        )
    handover.state, handover.answered_at, handover.answer_note = Handover.State.DECLINED, now, note
    return handover


def _check_receiver(handover: Handover, actor: Staff) -> None:
    if handover.to_staff_id != actor.id:
        raise PermissionDenied(_("只有接收人可以确认或拒绝移交"))
    if handover.state != Handover.State.PENDING:
        raise ValidationFailed(_("该移交已处理"))
