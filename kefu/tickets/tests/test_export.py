"""The ticket export: streamed, the list's filters and order, the same columns, a cap that
says so, no query per row."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import time_machine
from openpyxl import load_workbook

from kefu.testing import make_ticket
from kefu.tickets.models import Ticket
from kefu.tickets.views import tickets as views

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=SH)


def _rows(response) -> list[tuple]:
    return list(load_workbook(BytesIO(response.getvalue())).active.iter_rows(values_only=True))


def _tickets(world, count: int) -> list[Ticket]:
    made = []
    for i in range(count):
        with time_machine.travel(START + timedelta(minutes=i), tick=False):
            made.append(
                make_ticket(
                    world.site,
                    world.agent,
                    customer=world.customer,
                    category=world.repair_cat,
                    contact_phone="13912345678",
                )
            )
    return made


def test_export_is_streamed_with_the_columns_of_the_list(world, client):
    (ticket,) = _tickets(world, 1)
    client.force_login(world.supervisor.user)
    with time_machine.travel(START + timedelta(days=4), tick=False):
        response = client.get("/tickets/export/")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    rows = _rows(response)
    assert rows[0] == (
        "工单号", "项目", "类型", "渠道", "分类", "紧急程度", "状态", "客户/联系人", "联系电话", "内容",
        "首问责任人", "处理部门", "处理人", "受理时间", "办结期限", "是否超时",
    )  # fmt: skip
    ticket.refresh_from_db()
    row = rows[1]
    assert row[:7] == (
        ticket.number,
        world.site.name,
        ticket.get_kind_display(),
        ticket.get_channel_display(),
        world.repair_cat.name,
        ticket.get_urgency_display(),
        ticket.get_status_display(),
    )
    assert row[8] == "13912345678"  # a supervisor sees phone numbers
    assert row[9] == ticket.content and row[10] == world.agent.name
    assert row[13] == "2026-11-23 09:00"
    assert row[15] == "是"  # four days later the resolution deadline has passed


def test_export_follows_the_filters_and_the_order(world, client):
    made = _tickets(world, 3)
    client.force_login(world.supervisor.user)
    numbers = [r[0] for r in _rows(client.get("/tickets/export/"))[1:]]
    assert numbers == [t.number for t in reversed(made)]  # newest first, as the list
    numbers = [r[0] for r in _rows(client.get("/tickets/export/", {"sort": "created"}))[1:]]
    assert numbers == [t.number for t in made]


def test_past_the_cap_the_last_row_says_so(world, client, monkeypatch):
    made = _tickets(world, 3)
    monkeypatch.setattr(views, "EXPORT_LIMIT", 2)
    client.force_login(world.supervisor.user)
    rows = _rows(client.get("/tickets/export/"))
    assert [r[0] for r in rows[1:3]] == [made[2].number, made[1].number]
    assert len(rows) == 4 and rows[3][0] == "仅导出前 2 条，请缩小筛选范围后分批导出"


def test_no_query_per_row(world, client, django_assert_max_num_queries):
    _tickets(world, 2)
    client.force_login(world.supervisor.user)
    with django_assert_max_num_queries(12) as few:
        assert len(_rows(client.get("/tickets/export/"))) == 3
    _tickets(world, 8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_rows(client.get("/tickets/export/"))) == 11
