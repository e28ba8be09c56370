"""``insert_many`` writes the rows ``bulk_create`` would, and gives each instance its key."""

from datetime import UTC, datetime

import pytest
from django.forms.models import model_to_dict

from kefu.core import bulk
from kefu.core.bulk import insert_many
from kefu.notify.models import Delivery, Notification
from kefu.org.models import Role
from kefu.testing import make_site, make_staff, make_ticket
from kefu.tickets.models import TicketEvent, WarningCard

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 5, 8, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def world():
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site], name="小张")
    boss = make_staff(Role.SUPERVISOR, sites=[site], name="王主管")
    return {"site": site, "agent": agent, "boss": boss, "ticket": make_ticket(site, agent, auto_dispatch=False)}


def _rows(model, objs):
    """Each row as read back, without its key."""
    return [{k: v for k, v in model_to_dict(model.objects.get(pk=o.pk)).items() if k != "id"} for o in objs]


def _events(w, tag):
    return [
        TicketEvent(
            ticket=w["ticket"], type="warning", note=f"{tag} 黄牌：响应期限已过", data={"card": 7, "颜色": "黄"}, at=AT
        ),
        TicketEvent(ticket=w["ticket"], actor=w["agent"], type="escalated", note="", data={}, at=AT, to_status="x"),
        TicketEvent(ticket=w["ticket"], type="note", note=f"{tag} 第三条", data=[1, "二"], at=AT, visibility="public"),
    ]


def _notifications(w, tag):
    return [
        Notification(recipient=w["agent"], site=w["site"], event="sla.prewarn", title=f"{tag} 时限预警", created_at=AT),
        Notification(
            recipient=w["boss"],
            site=None,
            actor=w["agent"],
            event="warning.card",
            title=tag,
            body="正文",
            link="/x/",
            created_at=AT,
        ),
    ]


@pytest.mark.parametrize("make", [_events, _notifications])
def test_the_rows_are_those_bulk_create_writes(world, make):
    django, ours = make(world, "A"), make(world, "A")
    model = type(django[0])
    model.objects.bulk_create(django)
    assert insert_many(ours) is ours
    assert _rows(model, ours) == _rows(model, django)
    assert all(o.pk is not None and not o._state.adding for o in ours)
    assert [o.pk for o in ours] == sorted(o.pk for o in ours)


def test_each_instance_gets_the_key_of_its_own_row(world, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_ROWS", 3)  # several statements
    notes = [f"第{i}条" for i in range(8)]
    events = [TicketEvent(ticket=world["ticket"], type="note", note=n, at=AT) for n in notes]
    insert_many(events)
    assert len({e.pk for e in events}) == 8
    assert [TicketEvent.objects.get(pk=e.pk).note for e in events] == notes


def test_a_row_of_a_related_object_saved_after_it_was_assigned(world):
    """As with bulk_create: the key of an object assigned before it was saved is taken at
    the insert; an object still unsaved stops the insert before any row is written."""
    notification = Notification(recipient=world["agent"], event="sla.prewarn", title="预警")
    delivery = Delivery(
        notification=notification, channel="email", target="a@example.com", next_attempt_at=AT, created_at=AT
    )
    insert_many([notification])
    insert_many([delivery])
    assert Delivery.objects.get(pk=delivery.pk).notification_id == notification.pk

    unsaved = Notification(recipient=world["agent"], event="sla.prewarn", title="未保存")
    before = Delivery.objects.count()
    ok = Delivery(notification=notification, channel="email", target="b@example.com", next_attempt_at=AT, created_at=AT)
    bad = Delivery(notification=unsaved, channel="email", target="c@example.com", next_attempt_at=AT, created_at=AT)
    with pytest.raises(ValueError, match="notification"):
        insert_many([ok, bad])
    assert Delivery.objects.count() == before


def test_a_duplicate_key_fails_like_bulk_create(world):
    from django.db import IntegrityError, transaction

    def card(key):
        return WarningCard(
            key=key, site=world["site"], ticket=world["ticket"], staff=world["agent"], color="yellow", rule="respond",
            deadline=AT, issued_at=AT, note="响应期限已过",
        )  # fmt: skip

    insert_many([card("k1")])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many([card("k2"), card("k1")])
    assert sorted(WarningCard.objects.values_list("key", flat=True)) == ["k1"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_leaves_none_of_the_rows(world, monkeypatch):
    """Outside any transaction: the rows of the statements before the one that fails are not
    kept either."""
    from django.db import IntegrityError

    monkeypatch.setattr(bulk, "MAX_ROWS", 2)
    events = [TicketEvent(ticket=world["ticket"], type="note", note=f"第{i}条", at=AT) for i in range(3)]
    events[2].ticket_id = 10**9  # no such ticket: the second statement fails
    before = TicketEvent.objects.count()
    with pytest.raises(IntegrityError):
        insert_many(events)
    assert TicketEvent.objects.count() == before


def test_nothing_to_write_writes_nothing():
    assert list(insert_many([])) == []


@pytest.mark.parametrize("prepared", [True, False], ids=["bound-on-server", "spelt-out"])
def test_awkward_values_arrive_as_they_were(world, settings, prepared):
    """PostgreSQL takes the values as one array a column, sent in binary or spelt out as
    literals: quotes, braces, commas, backslashes, the word NULL, empty strings and missing
    values must each arrive as given."""
    settings.KEFU_PG_PREPARED = prepared
    awkward = ['a "quoted" {brace}, comma', "back\\slash \\\\ two", "NULL", "", "行一\n行二\t制表", "'单引号'"]
    events = [
        TicketEvent(ticket=world["ticket"], type="note", note=text, data={"text": text, "list": [text, None]}, at=AT)
        for text in awkward
    ]
    events.append(TicketEvent(ticket=world["ticket"], actor=None, type="note", note="x", data=[], at=AT))
    insert_many(events)
    back = {e.pk: e for e in TicketEvent.objects.filter(pk__in=[e.pk for e in events])}
    assert [back[e.pk].note for e in events] == [*awkward, "x"]
    assert [back[e.pk].data for e in events] == [{"text": t, "list": [t, None]} for t in awkward] + [[]]
    assert back[events[-1].pk].actor_id is None
    assert all(back[e.pk].at == AT for e in events)


def test_a_naive_time_is_taken_as_the_field_takes_it(world):
    """A naive datetime is made aware in the current time zone, with Django's warning, as
    ``bulk_create`` does; an aware one is stored as it is."""
    naive = datetime(2026, 3, 5, 8, 30, 15)
    django = [TicketEvent(ticket=world["ticket"], type="note", note="甲", at=naive)]
    ours = [TicketEvent(ticket=world["ticket"], type="note", note="甲", at=naive)]
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        TicketEvent.objects.bulk_create(django)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        insert_many(ours)
    assert _rows(TicketEvent, ours) == _rows(TicketEvent, django)
    assert TicketEvent.objects.get(pk=ours[0].pk).at.utcoffset() is not None
