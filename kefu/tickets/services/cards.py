"""Warning cards and the SLA sweep (SPEC §3.3, seed 000).

The sweep runs every minute in the worker. It reads only tickets whose ``next_check_at`` has
come (a partial index), claims each with a conditional UPDATE of that column and acts only if
the claim won, so any number of sweeps may run at once: the same card is never issued twice
and the same escalation never sent twice. A card's unique ``key`` is the second lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.notify.services import notify
from kefu.org.models import Role, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import leaders_at

from ..lifecycle import ENDED
from ..models import Ticket, WarningCard
from ..sla import Due, Rules, rules_for, sla_schedule
from ._common import _event

REVOKE_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR})

_CARD_OF_BREACH = {
    "respond": WarningCard.Rule.RESPOND,
    "arrive": WarningCard.Rule.ARRIVE,
    "resolve": WarningCard.Rule.RESOLVE,
}
_DEADLINE_WORDS = {
    "respond": gettext_lazy("响应"),
    "arrive": gettext_lazy("到场"),
    "resolve": gettext_lazy("办结"),
    "progress": gettext_lazy("反馈"),
}


@dataclass
class SweepResult:
    checked: int = 0
    cards: int = 0
    notices: int = 0
    keys: list[str] = field(default_factory=list)


def responsible(ticket: Ticket) -> Staff:
    """Who answers for the ticket's time limits: its handler, else its first responder."""
    return ticket.assignee if ticket.assignee is not None else ticket.first_responder


def warning_issue(
    *,
    ticket: Ticket,
    staff: Staff,
    color: str,
    rule: str,
    key: str,
    deadline: datetime | None = None,
    note: str = "",
    actor: Staff | None = None,
    at: datetime | None = None,
) -> WarningCard | None:
    """Record a card against ``staff``, once: a second call with the same ``key`` changes
    nothing and returns None. Writes a timeline event and tells the person and their
    supervisor."""
    now = at or timezone.now()
    try:
        # A savepoint: a duplicate key must not spoil the caller's transaction.
        with transaction.atomic():
            card = WarningCard.objects.create(
                key=key,
                site_id=ticket.site_id,
                ticket=ticket,
                staff=staff,
                color=color,
                rule=rule,
                deadline=deadline,
                issued_at=now,
                issued_by=actor,
                note=note[:300],
            )
    except IntegrityError:
        return None
    _event(
        ticket,
        actor,
        "warning",
        note=note,
        data={"color": color, "rule": rule, "staff": staff.name, "card": card.pk},
        at=now,
    )
    label = card.get_color_display()
    notify(
        recipients=[staff, *_supervisors(ticket, staff)],
        event="warning.card",
        title=_("{card}：{number}").format(card=label, number=ticket.number),
        body=_("{name}，{rule}。{note}").format(name=staff.name, rule=card.get_rule_display(), note=note),
        link=f"/tickets/{ticket.pk}/",
        ref=f"ticket:{ticket.pk}",
        site=ticket.site,
        actor=actor,
    )
    return card


def warning_revoke(*, card: WarningCard, actor: Staff, reason: str) -> WarningCard:
    """A manager or director withdraws a card (撤销), with a reason; the card is kept, marked
    revoked, and no longer counts."""
    if actor.role not in REVOKE_ROLES:
        raise PermissionDenied(_("只有经理和总监可以撤销警告卡"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写撤销原因"), field="reason")
    if len(reason) > 200:
        raise ValidationFailed(_("原因不能超过 200 字"), field="reason")
    now = timezone.now()
    with transaction.atomic():
        updated = WarningCard.objects.filter(pk=card.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor, revoke_reason=reason
        )
        if not updated:
            raise ValidationFailed(_("该警告卡已撤销"))
        card.revoked_at, card.revoked_by, card.revoke_reason = now, actor, reason
        if card.ticket_id is not None:
            ticket = Ticket.objects.get(pk=card.ticket_id)
            _event(ticket, actor, "warning_revoked", note=reason, data={"card": card.pk, "staff": card.staff.name})
    return card


def ticket_mark_serious(*, ticket: Ticket, actor: Staff, reason: str) -> WarningCard:
    """A supervisor or above marks a ticket as having serious consequences (造成严重后果):
    a red card for the person responsible, at once."""
    if actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以发红牌"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写严重后果的说明"), field="reason")
    if len(reason) > 300:
        raise ValidationFailed(_("说明不能超过 300 字"), field="reason")
    with transaction.atomic():
        card = warning_issue(
            ticket=ticket,
            staff=responsible(ticket),
            color=WarningCard.Color.RED,
            rule=WarningCard.Rule.SERIOUS,
            key=f"serious:{ticket.pk}",
            note=reason,
            actor=actor,
        )
    if card is None:
        raise ValidationFailed(_("该工单已因严重后果发过红牌"))
    return card


# --- the sweep -----------------------------------------------------------------------------


def sla_sweep(*, now: datetime | None = None, limit: int = 2000, quiet: bool = False) -> SweepResult:
    """Do every warning that has come due: pre-warnings, yellow cards at a breach with word to
    the supervisor, escalation to the manager and the director, red cards, blue cards.

    ``quiet`` (the demo's history) issues the cards at the moment each fell due and tells
    nobody."""
    now = now or timezone.now()
    result = SweepResult()
    rules: dict[int, Rules] = {}
    due = list(
        Ticket.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("id", "next_check_at")[:limit]
    )
    for pk, check_at in due:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_related("site", "assignee__superior", "first_responder__superior")
                .filter(pk=pk, next_check_at=check_at)
                .first()
            )
            if ticket is None:  # someone acted on it meanwhile; the next sweep looks again
                continue
            site_rules = rules.setdefault(ticket.site_id, rules_for(ticket.site_id))
            plan = sla_schedule(ticket, site_rules)
            done = list(ticket.sla_done or [])
            fire = [d for d in plan if d.at <= now and d.key not in done]
            done += [d.key for d in fire]
            later = [d.at for d in plan if d.key not in done]
            # The claim: only the sweep whose UPDATE still finds the check time it read acts.
            won = Ticket.objects.filter(pk=pk, next_check_at=check_at).update(
                next_check_at=min(later) if later else None, sla_done=done
            )
            if not won:
                continue
            result.checked += 1
            ticket.sla_done = done
            for item in fire:
                cards, notices = _act(ticket, item, now=now, quiet=quiet)
                result.cards += cards
                result.notices += notices
                result.keys.append(f"{pk}:{item.key}")
    return result


def _act(ticket: Ticket, item: Due, *, now: datetime, quiet: bool) -> tuple[int, int]:
    """Carry out one due warning; (cards issued, notifications sent)."""
    person = responsible(ticket)
    words = _DEADLINE_WORDS[item.deadline]
    at = item.at if quiet else now
    if item.step == "blue":
        if ticket.assignee is None or ticket.status in ENDED:
            return 0, 0
        note = _("交办后 {when} 前未反馈处理进度").format(when=timezone.localtime(item.due).strftime("%m-%d %H:%M"))
        card = _card(ticket, ticket.assignee, WarningCard.Color.BLUE, WarningCard.Rule.PROGRESS, item, note, at, quiet)
        return (1 if card else 0), 0
    if item.step == "breach":
        note = _("{words}期限 {due} 已过").format(words=words, due=timezone.localtime(item.due).strftime("%m-%d %H:%M"))
        card = _card(ticket, person, WarningCard.Color.YELLOW, _CARD_OF_BREACH[item.deadline], item, note, at, quiet)
        return (1 if card else 0), 0
    if item.step == "red":
        note = _("办结期限 {due} 已过，至今仍未办结").format(due=timezone.localtime(item.due).strftime("%m-%d %H:%M"))
        card = _card(ticket, person, WarningCard.Color.RED, WarningCard.Rule.LONG_OVERDUE, item, note, at, quiet)
        return (1 if card else 0), 0
    if quiet:
        return 0, 0
    if item.step == "stall":
        recipients, event = [ticket.first_responder], "first_response.stalled"
        title = _("首问工单停滞：{number}").format(number=ticket.number)
        body = _("您首问的工单已 {hours} 小时没有进展（{status}），请跟进直至关闭。{content}").format(
            hours=round((now - ticket.updated_at).total_seconds() / 3600),
            status=ticket.get_status_display(),
            content=ticket.content[:80],
        )
    elif item.step == "prewarn":
        recipients, event = [person], "sla.prewarn"
        title = _("时限预警：{number}").format(number=ticket.number)
        body = _("{words}期限 {due}，请抓紧处理。").format(
            words=words, due=timezone.localtime(item.due).strftime("%m-%d %H:%M")
        )
    else:
        roles = (Role.MANAGER,) if item.step == "manager" else (Role.DIRECTOR,)
        recipients, event = list(leaders_at(site_id=ticket.site_id, roles=roles)), "sla.escalate"
        title = _("超时升级：{number}").format(number=ticket.number)
        body = _("{site}，{person} 负责，办结期限 {due} 已过仍未办结。{content}").format(
            site=ticket.site.name,
            person=person.name,
            due=timezone.localtime(item.due).strftime("%m-%d %H:%M"),
            content=ticket.content[:80],
        )
        _event(ticket, None, "escalated", note=body, data={"level": item.step}, at=now)
    sent = notify(
        recipients=recipients,
        event=event,
        title=title,
        body=body,
        link=f"/tickets/{ticket.pk}/",
        ref=f"ticket:{ticket.pk}",
        site=ticket.site,
    )
    return 0, len(sent)


def _card(
    ticket: Ticket, staff: Staff, color: str, rule: str, item: Due, note: str, at: datetime, quiet: bool
) -> WarningCard | None:
    key = f"{item.key}:{ticket.pk}"
    if quiet:
        card, created = WarningCard.objects.get_or_create(
            key=key,
            defaults={
                "site_id": ticket.site_id,
                "ticket": ticket,
                "staff": staff,
                "color": color,
                "rule": rule,
                "deadline": item.due,
                "issued_at": at,
                "note": note,
            },
        )
        return card if created else None
    return warning_issue(ticket=ticket, staff=staff, color=color, rule=rule, key=key, deadline=item.due, note=note)


def _supervisors(ticket: Ticket, staff: Staff) -> list[Staff]:
    """Who hears of a card or a breach: the person's own superior when they have one, else
    the site's supervisors."""
    superior = staff.superior if staff.superior_id else None
    if superior is not None and superior.is_active:
        return [superior]
    return list(leaders_at(site_id=ticket.site_id, roles=(Role.SUPERVISOR,)))
