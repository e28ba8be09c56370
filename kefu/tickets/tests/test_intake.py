"""Intake: first responder, first-contact resolution, validation, photos."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.testing import make_ticket
from kefu.tickets import services
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import Ticket


def png(name="p.png", size=(8, 8)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def test_intake_records_first_responder_and_due_times(world):
    t = make_ticket(world.site, world.frontdesk, customer=world.customer, category=world.repair_cat)
    assert t.first_responder == world.frontdesk
    assert t.contact_name == "张业主"
    assert t.respond_due < t.resolve_due and t.respond_due > t.created_at
    assert t.events.first().type == "created" and t.events.first().actor == world.frontdesk


def test_inquiry_answered_at_intake_is_closed_as_first_contact_resolution(world):
    t = make_ticket(world.site, world.agent, kind="inquiry", answer="物业费可在前台或微信缴纳")
    assert t.status == Status.CLOSED and t.first_contact_resolved
    reply = t.events.get(type="reply")
    assert reply.visibility == "public" and "微信" in reply.note
    assert Ticket.objects.filter(first_contact_resolved=True).count() == 1


def test_only_inquiries_can_be_answered_at_intake(world):
    with pytest.raises(ValidationFailed, match="只有咨询"):
        make_ticket(world.site, world.agent, kind="repair", answer="已处理")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"content": "   "}, "content", "内容不能为空"),
        ({"content": "漏" * 5001}, "content", "不能超过"),
        ({"channel": "fax"}, "channel", "来源渠道"),
        ({"urgency": "whenever"}, "urgency", "紧急程度"),
        ({"contact_phone": "12345"}, "contact_phone", "联系电话格式不正确"),
    ],
)
def test_bad_intake_gives_field_messages_and_creates_nothing(world, overrides, field, message):
    with pytest.raises(ValidationFailed) as info:
        make_ticket(world.site, world.agent, **overrides)
    assert message in info.value.fields[field][0]
    assert Ticket.objects.count() == 0


def test_intake_refused_outside_own_sites_and_for_technicians(world):
    with pytest.raises(ValidationFailed, match="无权在该项目"):
        make_ticket(world.other_site, world.agent)
    with pytest.raises(PermissionDenied):
        make_ticket(world.site, world.tech)


def test_photos_are_checked_by_content_and_size(world, settings):
    t = make_ticket(world.site, world.agent, photos=[png()])
    assert t.attachments.get().extension == "png"
    fake = SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    with pytest.raises(ValidationFailed, match="不是有效的图片"):
        make_ticket(world.site, world.agent, photos=[fake])
    settings.KEFU_MAX_PHOTO_BYTES = 50
    with pytest.raises(ValidationFailed, match="不能超过"):
        make_ticket(world.site, world.agent, photos=[png(size=(64, 64))])
    assert Ticket.objects.count() == 1


def test_repair_needs_a_customer_or_phone(world):
    with pytest.raises(ValidationFailed, match="请选择客户或填写联系电话"):
        services.ticket_create(site=world.site, kind="repair", channel="phone", content="灯不亮", actor=world.agent)


def test_customer_of_another_site_is_refused(world):
    from kefu.testing import make_customer

    stranger = make_customer(world.other_site, world.outsider_agent)
    with pytest.raises(ValidationFailed, match="客户不属于该项目"):
        make_ticket(world.site, world.agent, customer=stranger)


def test_new_caller_gets_a_customer_record_on_the_spot(world):
    t = services.ticket_create_with_new_customer(
        site=world.site,
        actor=world.frontdesk,
        contact_name="赵先生",
        contact_phone="13700001111",
        room="5-1-1201",
        kind="repair",
        channel="phone",
        content="门锁坏了",
        category=world.repair_cat,
    )
    customer = t.customer
    assert customer.name == "赵先生" and customer.primary_phone == "13700001111"
    assert t.unit.label == "5-1-1201" and customer.events.get().type == "created"


def test_new_caller_with_bad_details_creates_neither_record(world):
    from kefu.customers.models import Customer

    before = Customer.objects.count()
    for kwargs, field in (
        ({"contact_phone": "123"}, "contact_phone"),
        ({"room": "五楼"}, "room"),
        ({"content": ""}, "content"),
    ):
        args = {"contact_name": "赵先生", "contact_phone": "13700001111", "room": "", "content": "门锁坏了", **kwargs}
        with pytest.raises(ValidationFailed) as info:
            services.ticket_create_with_new_customer(
                site=world.site, actor=world.frontdesk, kind="repair", channel="phone", **args
            )
        assert field in info.value.fields
    assert Customer.objects.count() == before and Ticket.objects.count() == 0


def _ticket_writes(queries) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].startswith(('INSERT INTO "tickets_ticket"', 'UPDATE "tickets_ticket"'))
    ]


@pytest.mark.parametrize("shape", ["dispatched", "answered", "received"])
def test_intake_writes_the_ticket_row_once_as_it_ends_up(world, shape):
    """Whatever intake does with the ticket (the rule's dispatch, the answer that closes an
    inquiry), the row is inserted in its final state: no UPDATE after the INSERT, and the
    warning engine's columns are those a rewrite would give."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.tickets.sla import rules_for, sla_fields

    kwargs = {
        "dispatched": {"category": world.repair_cat},
        "answered": {"kind": "inquiry", "answer": "物业费可在前台或微信缴纳"},
        "received": {"auto_dispatch": False, "category": world.repair_cat},
    }[shape]
    with CaptureQueriesContext(connection) as queries:
        t = make_ticket(world.site, world.agent, customer=world.customer, **kwargs)
    writes = _ticket_writes(queries.captured_queries)
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "tickets_ticket"'), writes
    clock = [q["sql"] for q in queries.captured_queries if '"tickets_ticketclock"' in q["sql"]]
    assert len(clock) == 1 and clock[0].startswith('INSERT INTO "tickets_ticketclock"'), clock
    expected_status = {"dispatched": Status.DISPATCHED, "answered": Status.CLOSED, "received": Status.RECEIVED}
    stored = Ticket.objects.get(pk=t.pk)
    assert stored.status == expected_status[shape] and stored.version == 1
    # The stored warning columns are what the engine computes from the stored ticket.
    assert sla_fields(stored, {}, rules_for(stored.site_id))[1] == stored.clock.next_check_at
    if shape == "dispatched":
        assert (stored.assignee, stored.responded_at) == (world.tech, stored.created_at)
        assert stored.respond_delta is not None and stored.progress_due is not None
        assert list(stored.assignments.values_list("mode", "to_assignee")) == [("auto", world.tech.pk)]
        assert [(e.type, e.from_status, e.to_status) for e in stored.events.all()] == [
            ("created", "", "received"),
            ("dispatch", "received", "dispatched"),
        ]
    if shape == "answered":
        assert stored.first_contact_resolved and stored.closed_at == stored.completed_at == stored.created_at
        assert stored.handling_minutes == 0 and stored.clock.next_check_at is None
        assert [e.type for e in stored.events.all()] == ["created", "reply", "closed"]


def test_intake_keeps_what_it_wrote_on_the_ticket(world):
    """The timeline and hand-overs intake wrote are on the returned ticket (no read back), and
    the same as the database holds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    t = make_ticket(world.site, world.agent, customer=world.customer, category=world.repair_cat)
    with CaptureQueriesContext(connection) as queries:
        events = [(e.pk, e.type, e.actor_id, e.note) for e in t.events.all()]
        assignments = [(a.pk, a.mode, a.to_assignee_id, a.by_id) for a in t.assignments.all()]
    assert len(queries) == 0
    fresh = Ticket.objects.get(pk=t.pk)
    assert events == [(e.pk, e.type, e.actor_id, e.note) for e in fresh.events.all()]
    assert assignments == [(a.pk, a.mode, a.to_assignee_id, a.by_id) for a in fresh.assignments.all()]
    # A later write through a service drops what was kept: the timeline is read again.
    services.ticket_add_note(ticket=t, actor=world.agent, text="已电话联系业主")
    assert [e.type for e in t.events.all()] == ["created", "dispatch", "note"]


@pytest.mark.parametrize("shape", ["dispatched", "answered"])
def test_the_intake_write_transaction_only_writes(world, shape):
    """On SQLite the write transaction holds the database's one write lock: everything intake
    reads (the rule's pick, the customer's rooms for the search document) is read before it,
    and inside it are only the writes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    kwargs = {"category": world.repair_cat} if shape == "dispatched" else {"kind": "inquiry", "answer": "前台缴纳"}
    with CaptureQueriesContext(connection) as queries:
        make_ticket(world.site, world.agent, customer=world.customer, **kwargs)
    # In a test the transaction is a savepoint of the test's own.
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    inside = statements[statements.index("SAVEPOINT") + 1 : statements.index("RELEASE")]
    assert inside and set(inside) == {"INSERT"}, inside
