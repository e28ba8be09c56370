"""Customer detail page: scope, tickets, change history with masked phones."""

from __future__ import annotations

import pytest

from kefu.customers.services import CustomerData, UnitLink, customer_update
from kefu.testing import make_ticket

pytestmark = pytest.mark.django_db


def url(customer) -> str:
    return f"/customers/{customer.pk}/"


def test_insider_sees_all_fields(world, login):
    response = login(world.agent).get(url(world.zhang))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("张业主", "翠湖花园", "13912345678", "1栋2单元301室", "业主", "VIP", "个人"):
        assert text in body


def test_outsider_and_technician_get_404(world, login):
    assert login(world.outsider).get(url(world.zhang)).status_code == 404
    assert login(world.agent).get(url(world.stranger)).status_code == 404
    assert login(world.tech).get(url(world.zhang)).status_code == 404
    assert login(world.agent).get("/customers/999999/").status_code == 404


def test_buttons_follow_rights(world, login):
    agent = login(world.agent).get(url(world.zhang)).content.decode()
    assert f'href="/customers/{world.zhang.pk}/edit/"' in agent
    assert f'href="/tickets/intake/?customer={world.zhang.pk}"' in agent
    admin = login(world.admin).get(url(world.zhang)).content.decode()
    assert "/edit/" not in admin and "新建工单" not in admin


def test_customer_tickets_are_listed_with_status_tag(world, login):
    ticket = make_ticket(world.site, world.agent, customer=world.zhang, content="卫生间漏水")
    make_ticket(world.site, world.agent, customer=world.li, content="别人的工单")
    body = login(world.agent).get(url(world.zhang)).content.decode()
    assert f'href="/tickets/{ticket.pk}/"' in body and ticket.number in body
    assert f'<span class="tag tag-{ticket.status_color}">{ticket.get_status_display()}</span>' in body
    assert "卫生间漏水" in body and "别人的工单" not in body
    assert f"/tickets/?customer={world.zhang.pk}" in body


def _change_zhang(world):
    zhang = world.zhang
    data = CustomerData(
        name="张大业主",
        phones=["13912345678", "13800001234"],
        units=[UnitLink("1", "2", "301", "tenant")],
        tags=["VIP", "会员"],
        note="喜欢上午联系",
    )
    customer_update(customer=zhang, data=data, actor=world.supervisor, version=zhang.version)


def test_history_shows_before_and_after(world, login):
    _change_zhang(world)
    body = login(world.agent).get(url(world.zhang)).content.decode()
    history = body[body.index('id="history"') :]
    assert "修改" in history and "建档" in history and "陈主管" in history
    assert '<td>姓名/单位名称</td><td class="muted">张业主</td><td>张大业主</td>' in history
    assert '<td>电话</td><td class="muted">13912345678</td><td>13912345678、13800001234</td>' in history
    assert "1-2-301(业主)" in history and "1-2-301(租户)" in history
    assert "（空）" in history and "喜欢上午联系" in history
    # The newest change comes first.
    assert history.index("修改") < history.index("建档")


def test_history_masks_phones_without_see_phone(world, login):
    _change_zhang(world)
    body = login(world.admin).get(url(world.zhang)).content.decode()
    assert "13912345678" not in body and "13800001234" not in body
    history = body[body.index('id="history"') :]
    assert "139****5678、138****1234" in history


def test_imported_history_is_labelled(world, login):
    from kefu.customers.models import CustomerEvent

    CustomerEvent.objects.filter(customer=world.li).update(type="imported")
    body = login(world.agent).get(url(world.li)).content.decode()
    assert "<strong>导入</strong>" in body
