"""Warning cards and the SLA sweep (SPEC §3.3, seed 000).

The sweep runs every minute in the worker. It reads only tickets whose clock
(``TicketClock.next_check_at``) has come (a partial index), claims each with a conditional
UPDATE of that column and acts only if the claim won, so any number of sweeps may run at
once: the same card is never issued twice and the same escalation never sent twice. A
card's unique ``key`` is the second lock.

It works in batches of ``SWEEP_BATCH`` tickets, one transaction each: the tickets are read in
one query, claimed one by one, and what the won claims give (cards, timeline events,
notifications and their deliveries) is written in a few bulk INSERTs. After two hours of
downtime at a million tickets (700 tickets due, 1,300 notifications) that is ~1 s of CPU
instead of ~8 s for a transaction, a dozen statements and a notify() per warning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Choices
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from kefu.core.bulk import insert_many, unnest
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.prepared import prepared_statements
from kefu.notify.services import Message, notify_many
from kefu.org.models import Role, Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import leaders_at

from ..lifecycle import ENDED, Status
from ..models import Ticket, TicketClock, TicketEvent, WarningCard
from ..sla import Due, Rules, rules_for, sla_schedule
from ._common import _event

REVOKE_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR})

_CARD_OF_BREACH = {
    "respond": WarningCard.Rule.RESPOND,
    "arrive": WarningCard.Rule.ARRIVE,
    "resolve": WarningCard.Rule.RESOLVE,
}
# Translated by ``_Words`` when a message is worded.
_DEADLINE_WORDS = {
    "respond": gettext_noop("响应"),
    "arrive": gettext_noop("到场"),
    "resolve": gettext_noop("办结"),
    "progress": gettext_noop("反馈"),
}


class _Words:
    """The texts of the sweep's messages in the language at hand, each translated once: a
    sweep catching up after a day down words 20,000 of them from a few dozen texts, and a
    ``gettext`` is a look-up of the active language and of three catalogues each time
    (0.17 s of CPU in such a run). A sweep keeps one for its run."""

    def __init__(self) -> None:
        self.seen: dict[object, str] = {}

    def _(self, text: str) -> str:
        found = self.seen.get(text)
        if found is None:
            found = self.seen[text] = gettext(text)
        return found

    def label(self, choice: Choices) -> str:
        """The label of one choice (a status, a card's colour or rule)."""
        key = (type(choice), choice.value)
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = str(choice.label)
        return found


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
    _event(ticket, actor, "warning", note=note, data=_card_data(card), at=now)
    notify_many([_card_message(card, note, [staff, *_supervisors(ticket, staff)])])
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

# Tickets claimed and acted on in one transaction. The writes of a batch (cards, events,
# notifications, deliveries) are a handful of bulk INSERTs instead of a dozen statements
# per warning. 500: a catch-up's 2,000-ticket run took 11 % less than in batches of 250 on
# PostgreSQL and 9 % less on SQLite (fewer statements a run), and a batch keeps SQLite's
# write lock for under 0.2 s (bench/RESULTS.md, 2026-12-04 18:03–21:03).
SWEEP_BATCH = 500


def sla_sweep(*, now: datetime | None = None, limit: int = 2000, quiet: bool = False) -> SweepResult:
    """Do every warning that has come due: pre-warnings, yellow cards at a breach with word to
    the supervisor, escalation to the manager and the director, red cards, blue cards.

    At most ``limit`` tickets, the longest waiting first; the next run takes the rest.
    ``quiet`` (the demo's history) issues the cards at the moment each fell due and tells
    nobody."""
    now = now or timezone.now()
    result = SweepResult()
    due = list(
        TicketClock.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at", "ticket_id")
        .values_list("ticket_id", "next_check_at")[:limit]
    )
    sweep = _Sweep(now=now, quiet=quiet)
    for start in range(0, len(due), SWEEP_BATCH):
        sweep.batch({pk: at for pk, at in due[start : start + SWEEP_BATCH] if at is not None}, result)
    return result


@dataclass
class _Plan:
    """What the sweep does for one ticket it has claimed: ``fire`` in schedule order."""

    ticket: Ticket
    fire: list[Due]


# What the sweep reads of a due ticket (the schedule's times, the words of its messages): a
# fraction of its columns, for hundreds of tickets a run. Its site and people come from the
# run's own small caches, not from a join per ticket.
_SWEPT_COLUMNS = (
    "id", "site_id", "number", "status", "content", "created_at", "updated_at", "progress_due", "respond_due",
    "responded_at", "arrive_due", "arrived_at", "resolve_due", "completed_at", "site", "assignee", "first_responder",
    "clock__next_check_at", "clock__sla_done",
)  # fmt: skip
# And of the people: the name a message gives, whether they still work here, whom they answer to.
_PEOPLE_COLUMNS = ("id", "name", "is_active", "superior_id")


def _claim(rows: list[tuple[int, datetime, datetime | None, list[str]]]) -> set[int]:
    """Claim each ticket (id, the check time read, the next check, the warnings done): the
    ids whose check time was still as read, now moved on. One UPDATE for the whole batch,
    joined to the batch's rows (an array a column on PostgreSQL, a list of VALUES on SQLite):
    a statement per ticket cost a round trip, a parse and a plan each (700 at the catch-up
    after two hours down), and the ORM's compilation before that."""
    if not rows:
        return set()
    meta = TicketClock._meta
    check, done = meta.get_field("next_check_at"), meta.get_field("sla_done")
    quote = connection.ops.quote_name
    table, pk, check_column = quote(meta.db_table), quote(meta.pk.column), quote(check.column)
    prepped = [
        (
            ticket_id,
            check.get_db_prep_value(read, connection),
            check.get_db_prep_value(after, connection),
            done.get_db_prep_value(keys, connection),
        )
        for ticket_id, read, after, keys in rows
    ]
    params: list[Any]
    if connection.vendor == "postgresql":
        # A short statement whatever the batch (psycopg parses the placeholders of a
        # statement in Python, a thousand of them for a VALUES list).
        claim = "SELECT * FROM " + unnest(["bigint", "timestamptz", "timestamptz", "jsonb"])
        params = [list(column) for column in zip(*prepped, strict=True)]
    else:
        claim = "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(rows))
        params = [value for row in prepped for value in row]
    sql = (
        f"WITH claim (ticket, read_at, next_at, done) AS ({claim}) "
        f"UPDATE {table} SET {check_column} = claim.next_at, {quote(done.column)} = claim.done FROM claim "
        f"WHERE {table}.{pk} = claim.ticket AND {table}.{check_column} = claim.read_at RETURNING {table}.{pk}"
    )
    with prepared_statements(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


@dataclass
class _Sweep:
    """One run of the sweep: the clock, and what it reads once per run (each site's warning
    rules, the people an escalation or a card without a superior goes to)."""

    now: datetime
    quiet: bool
    rules: dict[int, Rules] = field(default_factory=dict)
    leaders: dict[tuple[int, tuple[str, ...]], list[Staff]] = field(default_factory=dict)
    sites: dict[int, Site] = field(default_factory=dict)
    people: dict[int, Staff] = field(default_factory=dict)
    words: _Words = field(default_factory=_Words)
    # The people told, with their accounts, as ``notify_many`` reads them: once a run.
    recipients: dict[int, Staff | None] = field(default_factory=dict)

    def rules_of(self, site_id: int) -> Rules:
        if site_id not in self.rules:
            self.rules[site_id] = rules_for(site_id)
        return self.rules[site_id]

    def leaders_of(self, site_id: int, roles: tuple[str, ...]) -> list[Staff]:
        if (site_id, roles) not in self.leaders:
            self.leaders[(site_id, roles)] = list(leaders_at(site_id=site_id, roles=roles))
        return self.leaders[(site_id, roles)]

    def batch(self, read: dict[int, datetime], result: SweepResult) -> None:
        """Claim and act on the tickets ``read`` (id → the check time the list query read),
        all in one transaction: a failure leaves every ticket of the batch to the next run."""
        with transaction.atomic():
            tickets = list(
                Ticket.objects.select_related("clock")
                .only(*_SWEPT_COLUMNS)
                .filter(pk__in=list(read))
                .order_by("clock__next_check_at", "id")
            )
            self.attach(tickets)
            plans: list[_Plan] = []
            claims: list[tuple[Ticket, datetime, datetime | None, list[str], list[Due]]] = []
            for ticket in tickets:
                check_at = read[ticket.pk]
                clock = ticket.clock
                if clock.next_check_at != check_at:  # someone acted on it meanwhile; the next sweep looks again
                    continue
                plan = sla_schedule(ticket, self.rules_of(ticket.site_id))
                done = list(clock.sla_done or [])
                fire = [d for d in plan if d.at <= self.now and d.key not in done]
                done += [d.key for d in fire]
                later = [d.at for d in plan if d.key not in done]
                claims.append((ticket, check_at, min(later) if later else None, done, fire))
            won = _claim([(ticket.pk, check_at, after, done) for ticket, check_at, after, done, _fire in claims])
            for ticket, _check_at, after, done, fire in claims:
                if ticket.pk in won:
                    ticket.clock.next_check_at, ticket.clock.sla_done = after, done
                    plans.append(_Plan(ticket, fire))
            self.act(plans, result)

    def attach(self, tickets: list[Ticket]) -> None:
        """Give each ticket its site, handler and first responder from the run's caches,
        reading those not met yet (and the superiors they answer to) in one query each."""
        sites = {t.site_id for t in tickets} - self.sites.keys()
        if sites:
            self.sites.update((site.pk, site) for site in Site.objects.only("id", "name").filter(pk__in=sites))
        wanted = {pk for t in tickets for pk in (t.assignee_id, t.first_responder_id) if pk is not None}
        for _level in range(2):  # the people, then the superiors they answer to
            missing = wanted - self.people.keys()
            if missing:
                self.people.update((s.pk, s) for s in Staff.objects.only(*_PEOPLE_COLUMNS).filter(pk__in=missing))
            wanted = {
                superior for pk in wanted if pk in self.people and (superior := self.people[pk].superior_id) is not None
            }
        for ticket in tickets:
            ticket.site = self.sites[ticket.site_id]
            ticket.first_responder = self.people[ticket.first_responder_id]
            ticket.assignee = self.people[ticket.assignee_id] if ticket.assignee_id is not None else None

    def act(self, plans: list[_Plan], result: SweepResult) -> None:
        """The warnings of the claimed tickets: the cards first (the events name them), then
        the timeline events and the notifications, each in one bulk write, in the order one
        warning after another would have written them."""
        cards = self.issue_cards(plans)
        events: list[TicketEvent] = []
        messages: list[tuple[Message, Ticket]] = []
        for plan in plans:
            ticket = plan.ticket
            result.checked += 1
            for item in plan.fire:
                result.keys.append(f"{ticket.pk}:{item.key}")
                if item.step in _CARD_STEPS:
                    issued = cards.get(_card_key(ticket, item))
                    if issued is None:
                        continue
                    result.cards += 1
                    if not self.quiet:
                        card, note = issued
                        staff = card.staff
                        events.append(
                            TicketEvent(ticket=ticket, type="warning", note=note, data=_card_data(card), at=self.now)
                        )
                        messages.append(
                            (_card_message(card, note, [staff, *self._supervisors(ticket, staff)], self.words), ticket)
                        )
                elif item.step == "prewarn" and item.due <= self.now:
                    # Its deadline has passed (a sweep catching up after downtime): "hurry,
                    # due at 10:00" at 14:00 says nothing the breach's card does not.
                    continue
                elif not self.quiet:
                    messages.append((self.notice(ticket, item, events), ticket))
        # Warning and escalation events have no words for the search index (SKIPPED_EVENTS),
        # so a bulk insert is all ``_event`` would have done for them.
        insert_many(events)
        result.notices += len(notify_many(_digested(messages), known=self.recipients))

    def issue_cards(self, plans: list[_Plan]) -> dict[str, tuple[WarningCard, str]]:
        """The cards the claimed tickets' warnings give and their whole notes (the card keeps
        300 characters), by key; a key already used (the card was issued before) gives none,
        as in ``warning_issue``."""
        wanted: dict[str, tuple[WarningCard, str]] = {}
        for plan in plans:
            for item in plan.fire:
                found = self.card_for(plan.ticket, item)
                if found is not None:
                    wanted[found[0].key] = found
        if not wanted:
            return {}
        taken = set(WarningCard.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
        fresh = [card for key, (card, _note) in wanted.items() if key not in taken]
        try:
            # A savepoint: a key taken since it was read must not spoil the claims.
            with transaction.atomic():
                insert_many(fresh)
        except IntegrityError:
            kept = []
            for card in fresh:
                card.pk = None
                try:
                    with transaction.atomic():
                        card.save(force_insert=True)
                except IntegrityError:
                    continue
                kept.append(card)
            fresh = kept
        return {card.key: wanted[card.key] for card in fresh}

    def card_for(self, ticket: Ticket, item: Due) -> tuple[WarningCard, str] | None:
        """The card ``item`` gives, unsaved, or None for a step that gives none."""
        if item.step not in _CARD_STEPS:
            return None
        at = item.at if self.quiet else self.now
        due = timezone.localtime(item.due).strftime("%m-%d %H:%M")
        person = responsible(ticket)
        if item.step == "blue":
            if ticket.assignee is None or ticket.status in ENDED:
                return None
            color, rule, staff = WarningCard.Color.BLUE, WarningCard.Rule.PROGRESS, ticket.assignee
            note = self.words._("交办后 {when} 前未反馈处理进度").format(when=due)
        elif item.step == "breach":
            color, rule, staff = WarningCard.Color.YELLOW, _CARD_OF_BREACH[item.deadline], person
            note = self.words._("{words}期限 {due} 已过").format(
                words=self.words._(_DEADLINE_WORDS[item.deadline]), due=due
            )
        else:
            color, rule, staff = WarningCard.Color.RED, WarningCard.Rule.LONG_OVERDUE, person
            note = self.words._("办结期限 {due} 已过，至今仍未办结").format(due=due)
        card = WarningCard(
            key=_card_key(ticket, item),
            site_id=ticket.site_id,
            ticket=ticket,
            staff=staff,
            color=color,
            rule=rule,
            deadline=item.due,
            issued_at=at,
            note=note[:300],
        )
        return card, note

    def notice(self, ticket: Ticket, item: Due, events: list[TicketEvent]) -> Message:
        """The word a pre-warning, a stalled ticket or an escalation sends (an escalation
        also goes on the timeline)."""
        now, person = self.now, responsible(ticket)
        say = self.words
        deadline = say._(_DEADLINE_WORDS[item.deadline])
        due = timezone.localtime(item.due).strftime("%m-%d %H:%M")
        recipients: list[Staff | None]
        if item.step == "stall":
            recipients, event = [ticket.first_responder], "first_response.stalled"
            title = say._("首问工单停滞：{number}").format(number=ticket.number)
            body = say._("您首问的工单已 {hours} 小时没有进展（{status}），请跟进直至关闭。{content}").format(
                hours=round((now - ticket.updated_at).total_seconds() / 3600),
                status=say.label(Status(ticket.status)),
                content=ticket.content[:80],
            )
        elif item.step == "prewarn":
            recipients, event = [person], "sla.prewarn"
            title = say._("时限预警：{number}").format(number=ticket.number)
            body = say._("{words}期限 {due}，请抓紧处理。").format(words=deadline, due=due)
        else:
            roles = (Role.MANAGER,) if item.step == "manager" else (Role.DIRECTOR,)
            recipients, event = list(self.leaders_of(ticket.site_id, roles)), "sla.escalate"
            title = say._("超时升级：{number}").format(number=ticket.number)
            body = say._("{site}，{person} 负责，办结期限 {due} 已过仍未办结。{content}").format(
                site=ticket.site.name, person=person.name, due=due, content=ticket.content[:80]
            )
            events.append(TicketEvent(ticket=ticket, type="escalated", note=body, data={"level": item.step}, at=now))
        return Message(
            recipients, event, title, body, link=f"/tickets/{ticket.pk}/", ref=f"ticket:{ticket.pk}", site=ticket.site
        )

    def _supervisors(self, ticket: Ticket, staff: Staff) -> list[Staff]:
        """As ``_supervisors``, from the run's caches."""
        superior = self.people.get(staff.superior_id) if staff.superior_id else None
        if superior is not None and superior.is_active:
            return [superior]
        return self.leaders_of(ticket.site_id, (Role.SUPERVISOR,))


_CARD_STEPS = frozenset({"blue", "breach", "red"})

# More warnings of one kind than this for one person in one batch of the sweep (a sweep
# catching up after downtime: a day down gave a director 1,210 escalations) are told to them
# in one message that lists the tickets. Each would also have been a text message or a WeCom
# post; one by one they bury what they are about. In the sweep of every minute a person is
# told of a few at most, one message each.
DIGEST_AFTER = 5
# Tickets a digest names; the link lists them all.
DIGEST_NAMES = 10
_DIGESTS: dict[str, tuple[Any, str]] = {
    "sla.escalate": (gettext_lazy("超时升级：{count} 张工单"), "/tickets/?overdue=1"),
    "warning.card": (gettext_lazy("警告卡：{count} 张"), "/tickets/warnings/"),
    "first_response.stalled": (gettext_lazy("首问工单停滞：{count} 张工单"), "/tickets/first-response/"),
    "sla.prewarn": (gettext_lazy("时限预警：{count} 条"), "/tickets/?mine=1"),
}


def _digested(told: list[tuple[Message, Ticket]]) -> list[Message]:
    """The messages of a batch, each with the ticket it is about, as they are to be sent: a
    person with more than ``DIGEST_AFTER`` of one kind gets one message of that kind naming
    the tickets instead, and is taken off the messages it stands for."""
    counts = Counter((staff.pk, message.event) for message, _ticket in told for staff in _unique(message.recipients))
    many = {key for key, count in counts.items() if count > DIGEST_AFTER}
    if not many:
        return [message for message, _ticket in told]
    kept: list[Message] = []
    folded: dict[tuple[int, str], tuple[Staff, list[Message], dict[int, Ticket]]] = {}
    for message, ticket in told:
        rest = []
        for staff in _unique(message.recipients):
            key = (staff.pk, message.event)
            if key not in many:
                rest.append(staff)
                continue
            _staff, group, tickets = folded.setdefault(key, (staff, [], {}))
            group.append(message)
            tickets.setdefault(ticket.pk, ticket)
        if rest:
            kept.append(replace(message, recipients=rest))
    for (_pk, event), (staff, group, tickets) in folded.items():
        title, link = _DIGESTS[event]
        numbers = [t.number for t in tickets.values()]
        sites = {message.site for message in group}
        more = _("等") if len(numbers) > DIGEST_NAMES else ""
        body = _("本次时限检查涉及工单：{numbers}{more}（共 {count} 张）。").format(
            numbers="、".join(numbers[:DIGEST_NAMES]), more=more, count=len(numbers)
        )
        kept.append(
            Message(
                [staff],
                event,
                str(title).format(count=len(group)),
                body,
                link=link,
                ref=f"sweep:{event}",
                site=sites.pop() if len(sites) == 1 else None,
            )
        )
    return kept


def _unique(recipients: Iterable[Staff | None]) -> list[Staff]:
    """The recipients of a message once each, as ``notify_many`` tells them."""
    return list({staff.pk: staff for staff in recipients if staff is not None}.values())


def _card_key(ticket: Ticket, item: Due) -> str:
    return f"{item.key}:{ticket.pk}"


def _card_data(card: WarningCard) -> dict[str, object]:
    """What the timeline's warning event keeps of a card."""
    return {"color": card.color, "rule": card.rule, "staff": card.staff.name, "card": card.pk}


def _card_message(card: WarningCard, note: str, recipients: list[Staff], words: _Words | None = None) -> Message:
    """The word of a card to the person and their supervisor (``words``: a sweep's)."""
    ticket = card.ticket
    assert ticket is not None
    words = words or _Words()
    return Message(
        recipients,
        "warning.card",
        # The one label, not get_FOO_display(), which translates every choice of the field.
        words._("{card}：{number}").format(card=words.label(WarningCard.Color(card.color)), number=ticket.number),
        words._("{name}，{rule}。{note}").format(
            name=card.staff.name, rule=words.label(WarningCard.Rule(card.rule)), note=note
        ),
        link=f"/tickets/{ticket.pk}/",
        ref=f"ticket:{ticket.pk}",
        site=ticket.site,
        actor=card.issued_by,
    )


def _supervisors(ticket: Ticket, staff: Staff) -> list[Staff]:
    """Who hears of a card or a breach: the person's own superior when they have one, else
    the site's supervisors."""
    superior = staff.superior if staff.superior_id else None
    if superior is not None and superior.is_active:
        return [superior]
    return list(leaders_at(site_id=ticket.site_id, roles=(Role.SUPERVISOR,)))
