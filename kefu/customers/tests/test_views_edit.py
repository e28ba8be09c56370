"""Create and edit pages: Chinese messages by field, site choice, optimistic locking."""

from __future__ import annotations

import pytest

from kefu.customers.models import Customer, CustomerEvent
from kefu.customers.services import CustomerData, UnitLink, customer_update

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "kind": "person",
        "name": "王五",
        "gender": "male",
        "contact_person": "",
        "email": "wangwu@example.com",
        "source": "phone",
        "note": "新客户",
        "tags": "VIP，会员, 大客户",
        "phones": ["139 0000 1111", "010-88886666", ""],
        "building": ["3", "", ""],
        "entrance": ["1", "", ""],
        "room": ["502", "", ""],
        "relation": ["owner", "owner", "owner"],
    }
    data.update(overrides)
    return data


def test_agent_creates_a_customer(world, login):
    client = login(world.agent)
    assert client.get("/customers/new/").status_code == 200
    response = client.post("/customers/new/", form_data(site=world.site.pk))
    customer = Customer.objects.get(name="王五")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert customer.site == world.site and customer.created_by == world.agent
    assert [p.number for p in customer.phones.all()] == ["13900001111", "010-88886666"]
    assert sorted(t.name for t in customer.tags.all()) == sorted(["VIP", "会员", "大客户"])
    assert [link.unit.label for link in customer.unit_links.all()] == ["3-1-502"]
    assert customer.events.get().type == "created"


def test_create_shows_every_error_next_to_its_field(world, login):
    response = login(world.agent).post(
        "/customers/new/", form_data(site="", name="", phones=["12345", "", ""], email="bad", room=["", "", ""])
    )
    body = response.content.decode()
    assert response.status_code == 422
    for message in (
        "请选择项目",
        "姓名不能为空",
        "手机号码格式不正确：12345",
        "邮箱格式不正确",
        "房屋请填写楼栋和房号",
    ):
        assert message in body
    # What the user typed is still there.
    assert 'value="12345"' in body and 'value="bad"' in body and "新客户" in body
    assert not Customer.objects.filter(note="新客户").exists()


def test_create_on_a_site_outside_my_scope_is_refused(world, login):
    response = login(world.agent).post("/customers/new/", form_data(site=world.other_site.pk))
    assert response.status_code == 422 and "请选择项目" in response.content.decode()
    assert not Customer.objects.filter(name="王五").exists()


def test_create_needs_edit_right(world, login):
    assert login(world.admin).get("/customers/new/").status_code == 403
    assert login(world.admin).post("/customers/new/", form_data(site=world.site.pk)).status_code == 403
    assert login(world.tech).get("/customers/new/").status_code == 403


def test_edit_form_is_prefilled(world, login):
    body = login(world.agent).get(f"/customers/{world.zhang.pk}/edit/").content.decode()
    assert 'value="张业主"' in body and 'value="13912345678"' in body
    assert 'name="version" value="1"' in body and 'value="301"' in body and 'value="VIP"' in body


def test_agent_edits_a_customer(world, login):
    zhang = world.zhang
    response = login(world.agent).post(
        f"/customers/{zhang.pk}/edit/", form_data(name="张业主", version=zhang.version, phones=["13912345678"])
    )
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.version == 2 and zhang.email == "wangwu@example.com"
    event = zhang.events.filter(type="updated").get()
    assert event.actor == world.agent and event.data["changes"]["email"] == ["", "wangwu@example.com"]


def test_edit_validation_keeps_input(world, login):
    zhang = world.zhang
    response = login(world.agent).post(
        f"/customers/{zhang.pk}/edit/", form_data(name="", version=zhang.version, note="改过的备注")
    )
    body = response.content.decode()
    assert response.status_code == 422 and "姓名不能为空" in body and "改过的备注" in body
    zhang.refresh_from_db()
    assert zhang.version == 1


def test_stale_version_shows_conflict_and_keeps_input(world, login):
    zhang = world.zhang
    # A colleague saves first.
    customer_update(
        customer=Customer.objects.get(pk=zhang.pk),
        data=CustomerData(name="张业主", phones=["13912345678"], note="同事的修改"),
        actor=world.supervisor,
        version=1,
    )
    response = login(world.agent).post(
        f"/customers/{zhang.pk}/edit/", form_data(name="张业主", version=1, note="我的修改")
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "该客户资料已被他人修改，请刷新后重试" in body
    assert "我的修改" in body and 'name="version" value="1"' in body
    zhang.refresh_from_db()
    assert zhang.note == "同事的修改" and zhang.version == 2
    assert CustomerEvent.objects.filter(customer=zhang, type="updated").count() == 1


def test_tampered_version_is_a_conflict(world, login):
    response = login(world.agent).post(f"/customers/{world.zhang.pk}/edit/", form_data(version="abc"))
    assert response.status_code == 409


def test_edit_scope_and_rights(world, login):
    assert login(world.outsider).get(f"/customers/{world.zhang.pk}/edit/").status_code == 404
    assert login(world.outsider).post(f"/customers/{world.zhang.pk}/edit/", form_data(version=1)).status_code == 404
    assert login(world.tech).get(f"/customers/{world.zhang.pk}/edit/").status_code == 404
    assert login(world.admin).get(f"/customers/{world.zhang.pk}/edit/").status_code == 403
    world.zhang.refresh_from_db()
    assert world.zhang.version == 1


def test_edit_keeps_more_phones_and_units_than_the_blank_form_offers(world, login):
    zhang = world.zhang
    phones = ["13912345678", "13800000001", "13800000002", "13800000003"]
    units = [UnitLink("1", "2", str(300 + n)) for n in range(1, 5)]
    data = CustomerData(name="张业主", phones=phones, units=units)
    customer_update(customer=zhang, data=data, actor=world.agent, version=1)
    client = login(world.agent)
    body = client.get(f"/customers/{zhang.pk}/edit/").content.decode()
    assert body.count('name="phones"') == 4 and body.count('name="building"') == 4
    post = form_data(
        name="张业主",
        version=2,
        phones=phones,
        building=["1"] * 4,
        entrance=["2"] * 4,
        room=["301", "302", "303", "304"],
        relation=["owner"] * 4,
    )
    assert client.post(f"/customers/{zhang.pk}/edit/", post).status_code == 302
    zhang.refresh_from_db()
    assert [p.number for p in zhang.phones.all()] == phones
    assert zhang.unit_links.count() == 4


def test_a_phone_belongs_to_one_customer_per_site():
    from kefu.core.errors import ValidationFailed
    from kefu.customers.services import CustomerData, customer_create, customer_update
    from kefu.org.models import Role
    from kefu.testing import make_customer, make_site, make_staff

    site, other = make_site(), make_site()
    agent = make_staff(Role.AGENT, sites=[site, other])
    first = make_customer(site, agent, name="李四", phone="13600001234")
    with pytest.raises(ValidationFailed, match="电话 13600001234 已存在（客户：李四）"):
        customer_create(site=site, data=CustomerData(name="王五", phones=["136-0000-1234"]), actor=agent)
    # Another estate may have the same person as its own customer.
    customer_create(site=other, data=CustomerData(name="李四", phones=["13600001234"]), actor=agent)
    # Saving the owner again with the same number is fine.
    customer_update(
        customer=first, data=CustomerData(name="李四", phones=["13600001234"]), actor=agent, version=first.version
    )


NASTY = ["", " ", "abc", "-1", "1e309", "9" * 40, "' OR 1=1 --", "<script>x</script>", "\u202e", "名" * 3000]


def test_create_and_edit_survive_garbage_in_every_field(world, login):
    client = login(world.agent)
    before = (Customer.objects.count(), world.zhang.version)
    for value in NASTY:
        data = dict.fromkeys(form_data(), value)
        data.update({"site": value, "version": value, "phones": [value], "building": [value], "room": [value]})
        for url in ("/customers/new/", f"/customers/{world.zhang.pk}/edit/"):
            response = client.post(url, data)
            assert response.status_code < 500, (url, value, response.status_code)
    world.zhang.refresh_from_db()
    assert (Customer.objects.count(), world.zhang.version) == before
