"""Writes of notifications: ``notify`` (the outbox), marking read, preferences, and the
delivery worker's claim → send → record loop.

At-least-once: ``notify`` writes the in-app rows and one ``Delivery`` per external send in
the caller's transaction and enqueues the delivery task only when that transaction commits.
A rolled-back change sends nothing; a committed one is sent by the task, or, if the enqueue
was lost or the worker died, by the minute sweep (``deliveries_process`` from ``tasks``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.bulk import insert_many
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.org.models import Site, Staff
from kefu.org.permissions import can

from . import channels
from .models import Channel, ChannelTarget, Delivery, Notification, Preference
from .queries import ACTIVE, channel_enabled, deliveries_due, deliveries_for

logger = logging.getLogger(__name__)

EVENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
MAX_TITLE = 200
MAX_BODY = 2000
MAX_LINK = 300
MAX_REF = 60
MAX_ERROR = 1000
# How long a worker holds a claimed row: far beyond one send (5 s time-outs), short enough
# that a row whose worker was killed is sent again within minutes.
LEASE = timedelta(minutes=2)
# Back-off after the n-th failed attempt: 1, 2, 4, 8 … minutes, at most this.
MAX_BACKOFF = timedelta(hours=1)


# --- notify: the outbox ---------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One ``notify`` call's worth: what to tell whom (see ``notify``)."""

    recipients: Sequence[Staff | None]
    event: str
    title: str
    body: str
    link: str = ""
    ref: str = ""
    site: Site | None = None
    actor: Staff | None = None


def notify(
    *,
    recipients: Iterable[Staff],
    event: str,
    title: str,
    body: str,
    link: str = "",
    ref: str = "",
    site: Site | None = None,
    actor: Staff | None = None,
) -> list[Notification]:
    """Tell ``recipients`` about ``event``: one in-app notification each, plus a Delivery
    for every external channel they want, all in the caller's transaction.

    Recipients are de-duplicated; inactive staff are skipped. ``link`` is a path inside
    Kefu ("/tickets/12/"), ``ref`` names the subject for grouping ("ticket:12"). The
    delivery task is enqueued on commit, so nothing is sent for a change that rolls back.
    """
    return notify_many([Message(list(recipients), event, title, body, link, ref, site, actor)])


def notify_many(messages: Sequence[Message], *, known: dict[int, Staff | None] | None = None) -> list[Notification]:
    """``notify`` for many messages at once, in a fixed number of queries however many there
    are (the SLA sweep tells hundreds of people in one run): the same rows, in the same
    order, as one ``notify`` call per message. Every message is checked before anything is
    written.

    ``known``: the recipients a caller making several calls in a row has had read already
    (staff id → the member with their account, or None for one not active), filled in with
    those this call reads; the SLA sweep keeps one for its run of a second or so."""
    wanted: list[tuple[Message, str, str, list[int]]] = []
    for message in messages:
        title = " ".join((message.title or "").split())  # one line: it is also a mail subject
        body = (message.body or "").strip()
        _check(event=message.event, title=title, body=body, link=message.link, ref=message.ref)
        ids = list(dict.fromkeys(s.pk for s in message.recipients if s is not None))
        if ids:
            wanted.append((message, title, body, ids))
    if not wanted:
        return []
    now = timezone.now()
    with transaction.atomic():
        everyone = {pk for *_, ids in wanted for pk in ids}
        people = known if known is not None else {}
        missing = everyone - people.keys()
        if missing:
            read = {s.pk: s for s in Staff.objects.filter(pk__in=missing, is_active=True).select_related("user")}
            people.update((pk, read.get(pk)) for pk in missing)
        active = {pk: staff for pk in everyone if (staff := people[pk]) is not None}
        groups: list[tuple[Message, list[Notification]]] = []
        for message, title, body, ids in wanted:
            found = [
                Notification(
                    recipient=active[pk],
                    site=message.site,
                    actor=message.actor,
                    event=message.event,
                    title=title,
                    body=body,
                    link=message.link,
                    ref=message.ref,
                    created_at=now,
                )
                for pk in ids
                if pk in active
            ]
            if found:
                groups.append((message, found))
        notifications = insert_many([n for _message, found in groups for n in found])
        deliveries = insert_many(_deliveries(groups, now=now))
        delivery_ids = [d.pk for d in deliveries]
        if delivery_ids:
            # robust: a queue that is down must not fail the change that was just committed;
            # the minute sweep sends these rows anyway.
            transaction.on_commit(_enqueue_later(delivery_ids), robust=True)
    return notifications


def _check(*, event: str, title: str, body: str, link: str, ref: str) -> None:
    if not event or len(event) > 40 or not EVENT_PATTERN.match(event):
        raise ValidationFailed(_("通知事件代码不正确"), field="event")
    if not title:
        raise ValidationFailed(_("通知标题不能为空"), field="title")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(_("通知标题不能超过 {n} 个字符").format(n=MAX_TITLE), field="title")
    if len(body) > MAX_BODY:
        raise ValidationFailed(_("通知内容不能超过 {n} 个字符").format(n=MAX_BODY), field="body")
    if link and (not link.startswith("/") or link.startswith("//") or len(link) > MAX_LINK or "\\" in link):
        raise ValidationFailed(_("通知链接须为本系统内的路径"), field="link")
    if len(ref) > MAX_REF:
        raise ValidationFailed(_("关联对象过长"), field="ref")
    if any("\x00" in value for value in (event, title, body, link, ref)):
        raise ValidationFailed(_("通知包含非法字符"))


def _deliveries(groups: Sequence[tuple[Message, list[Notification]]], *, now: datetime) -> list[Delivery]:
    """The external sends of each message's notifications: an e-mail and an SMS per recipient
    who wants them, and one message per WeCom group robot (a group gets the news once and
    @-mentions the recipients who want WeCom). Preferences and channel targets are read once
    for all the messages."""
    staff_ids = {n.recipient_id for _message, found in groups for n in found}
    events = {message.event for message, _found in groups}
    saved: dict[int, dict[tuple[str, str], bool]] = {}
    for row in Preference.objects.filter(staff_id__in=staff_ids, event__in=["", *events]):
        saved.setdefault(row.staff_id, {})[(row.channel, row.event)] = row.enabled
    site_ids = {message.site.pk for message, _found in groups if message.site is not None}
    every_target = list(
        ChannelTarget.objects.filter(Q(site_id__in=site_ids) | Q(site__isnull=True), is_active=True).order_by("id")
    )
    rows: list[Delivery] = []
    for message, found in groups:
        event, site_id = message.event, (message.site.pk if message.site is not None else None)
        targets = [t for t in every_target if t.site_id in (site_id, None) and t.receives(event)]
        # A site's own gateway before the company's.
        gateways = sorted(
            (t for t in targets if t.kind == ChannelTarget.Kind.SMS_GATEWAY), key=lambda t: t.site_id is None
        )
        robots = [t for t in targets if t.kind == ChannelTarget.Kind.WECOM]
        wecom_to: list[Notification] = []
        for n in found:
            staff = n.recipient
            prefs = saved.get(staff.pk, {})
            email = (staff.user.email or "").strip()

            def wants(
                channel: str, prefs: dict[tuple[str, str], bool] = prefs, email: str = email, event: str = event
            ) -> bool:
                return channel_enabled(prefs, channel, event, has_email=bool(email))

            if email and wants(Channel.EMAIL):
                rows.append(_delivery(n, Channel.EMAIL, email, now))
            if gateways and staff.phone and wants(Channel.SMS):
                rows.append(_delivery(n, Channel.SMS, staff.phone, now, channel_target=gateways[0]))
            if robots and wants(Channel.WECOM):
                wecom_to.append(n)
        if wecom_to:
            phones = list(dict.fromkeys(n.recipient.phone for n in wecom_to if n.recipient.phone))
            for robot in robots:
                rows.append(
                    _delivery(wecom_to[0], Channel.WECOM, robot.url, now, channel_target=robot, mentions=phones)
                )
    return rows


def _delivery(n: Notification, channel: str, target: str, now: datetime, **extra: object) -> Delivery:
    return Delivery(
        notification=n,
        channel=channel,
        target=target,
        status=Delivery.Status.PENDING,
        next_attempt_at=now,
        created_at=now,
        **extra,  # type: ignore[arg-type]
    )


def _enqueue_later(ids: list[int]) -> Callable[[], None]:
    """The on-commit callback that hands ``ids`` to the worker (a named function: Django
    logs a failing robust callback by its ``__qualname__``)."""

    def enqueue_deliveries() -> None:
        from .tasks import deliver  # tasks imports this module

        deliver(ids)

    return enqueue_deliveries


# --- reading ------------------------------------------------------------------------------


def notification_mark_read(*, staff: Staff, ids: Collection[int] | None = None) -> int:
    """Mark ``staff``'s notifications read: those in ``ids``, or all of them when ``ids`` is
    None. Only the recipient's own rows are touched; other ids are ignored. The count."""
    qs = Notification.objects.filter(recipient=staff, read_at__isnull=True)
    if ids is not None:
        ids = [i for i in ids if isinstance(i, int) and 0 < i < 2**63]
        if not ids:
            return 0
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# --- preferences --------------------------------------------------------------------------


def preferences_save(*, staff: Staff, choices: Mapping[tuple[str, str], bool | None], actor: Staff) -> None:
    """Save ``{(channel, event): on/off}`` for ``staff``; None removes the row (back to the
    channel's choice, or the default). Event "" is the channel as a whole."""
    if actor.pk != staff.pk:
        raise PermissionDenied(_("只能修改自己的通知设置"))
    known = set(Channel.values)
    for channel, event in choices:
        if channel not in known:
            raise ValidationFailed(_("不支持的通知渠道"), field="channel")
        if event and (len(event) > 40 or not EVENT_PATTERN.match(event)):
            raise ValidationFailed(_("通知事件代码不正确"), field="event")
    with transaction.atomic():
        for (channel, event), enabled in choices.items():
            if enabled is None:
                Preference.objects.filter(staff=staff, channel=channel, event=event).delete()
            else:
                Preference.objects.update_or_create(
                    staff=staff, channel=channel, event=event, defaults={"enabled": enabled}
                )


# --- delivery: claim, send, record ----------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, capped."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def max_attempts() -> int:
    return max(int(settings.KEFU_NOTIFY_MAX_ATTEMPTS), 1)


def delivery_claim(*, delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Take a due row for this worker: one conditional UPDATE pending/failed/expired → sending
    with a lease. Two workers racing for a row both run the UPDATE; the database lets one
    match it (the other finds it no longer due), so only the winner gets the row back and
    sends. The attempt is counted here, so a send that kills its worker still counts."""
    now = now or timezone.now()
    lease = now + LEASE
    won = Delivery.objects.filter(
        pk=delivery_id, status__in=ACTIVE, next_attempt_at__lte=now, attempts__lt=max_attempts()
    ).update(status=Delivery.Status.SENDING, claimed_until=lease, next_attempt_at=lease, attempts=F("attempts") + 1)
    if won != 1:
        return None
    return Delivery.objects.select_related("notification", "channel_target").get(pk=delivery_id)


def delivery_send(*, delivery: Delivery) -> bool:
    """Send a claimed row and record the outcome: sent, or failed with back-off, or dead
    after the last attempt. Never raises: every error ends up in ``last_error``."""
    error = ""
    try:
        channels.send(delivery)
    except channels.ChannelError as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:
        logger.warning("delivery %s failed", delivery.pk, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    now = timezone.now()
    # Only while our lease holds: a row taken over by another worker after our lease ran out
    # is that worker's to record.
    mine = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_until=delivery.claimed_until)
    if not error:
        mine.update(status=Delivery.Status.SENT, sent_at=now, next_attempt_at=None, claimed_until=None, last_error="")
        return True
    dead = delivery.attempts >= max_attempts()
    mine.update(
        status=Delivery.Status.DEAD if dead else Delivery.Status.FAILED,
        next_attempt_at=None if dead else now + retry_delay(delivery.attempts),
        claimed_until=None,
        last_error=error[:MAX_ERROR],
    )
    return False


def deliveries_process(*, ids: Collection[int] | None = None, limit: int = 500) -> int:
    """The worker's loop: claim each due row (of ``ids``, or all), send it, record it.
    Returns how many were sent. Safe to run in any number of workers at once."""
    now = timezone.now()
    _bury_interrupted(now)
    due = deliveries_due(now)
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    sent = 0
    for delivery_id in list(due.values_list("pk", flat=True)[:limit]):
        delivery = delivery_claim(delivery_id=delivery_id)
        if delivery is not None and delivery_send(delivery=delivery):
            sent += 1
    return sent


def _bury_interrupted(now: datetime) -> None:
    """A row whose worker died during its last allowed attempt cannot be claimed again."""
    interrupted = Delivery.objects.filter(
        status=Delivery.Status.SENDING, next_attempt_at__lte=now, attempts__gte=max_attempts()
    )
    interrupted.update(
        status=Delivery.Status.DEAD,
        next_attempt_at=None,
        claimed_until=None,
        last_error=_("发送中断，已达最大尝试次数"),
    )


def delivery_retry(*, delivery: Delivery, actor: Staff) -> Delivery:
    """ "Retry now" for a failed or dead row: due at once, with a fresh count of attempts."""
    if not can(actor.role, "notify.deliveries"):
        raise PermissionDenied(_("您没有管理通知投递的权限"))
    if not deliveries_for(actor).filter(pk=delivery.pk).exists():
        raise PermissionDenied(_("您没有管理该通知投递的权限"))
    if delivery.status not in (Delivery.Status.FAILED, Delivery.Status.DEAD):
        raise ValidationFailed(_("只有失败或已放弃的投递可以重试"))
    now = timezone.now()
    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk=delivery.pk, status__in=[Delivery.Status.FAILED, Delivery.Status.DEAD]
        ).update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
        if updated != 1:
            raise ValidationFailed(_("该投递的状态已变化，请刷新后重试"))
        transaction.on_commit(_enqueue_later([delivery.pk]), robust=True)
    delivery.refresh_from_db()
    return delivery
