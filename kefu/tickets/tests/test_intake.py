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
