"""Customer records over the API: scope, search, masking, writes and optimistic locking."""

import itertools
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.customers.models import Customer, CustomerEvent
from kefu.customers.services import CONFLICT_MESSAGE
from kefu.org.models import Role
from kefu.testing import api_auth, make_customer, make_site, make_staff, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def world():
    site, other = make_site(), make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    outsider = make_staff(Role.AGENT, sites=[other])
    customer = make_customer(site, agent, name="王芳", phone="13812345678", room=("1", "2", "301"), tags=["VIP"])
    foreign = make_customer(other, outsider, name="外人", phone="13987654321")
    return {
        "site": site,
        "other": other,
        "agent": agent,
        "outsider": outsider,
        "customer": customer,
        "foreign": foreign,
    }


def post(client, url, data, headers):
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def put(client, url, data, headers):
    return client.put(url, json.dumps(data), content_type="application/json", **headers)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


# --- reading ------------------------------------------------------------------------------


def test_insider_lists_own_site_only(client, world):
    body = client.get("/api/v1/customers", **api_auth(world["agent"])).json()
    assert [row["id"] for row in body["items"]] == [world["customer"].id]
    assert body["count"] == 1
    row = body["items"][0]
    assert row["phone"] == "13812345678"
    assert row["units"] == ["1-2-301"] and row["tags"] == ["VIP"]
    assert row["site"] == {"id": world["site"].id, "name": world["site"].name}


def test_outsider_never_sees_rows_nor_detail(client, world):
    headers = api_auth(world["outsider"])
    assert ids(client.get("/api/v1/customers", **headers)) == [world["foreign"].id]
    assert ids(client.get("/api/v1/customers", {"q": "王芳"}, **headers)) == []
    assert ids(client.get("/api/v1/customers", {"site": world["site"].id}, **headers)) == []
    response = client.get(f"/api/v1/customers/{world['customer'].id}", **headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "客户不存在"


def test_field_roles_see_no_customer_records(client, world):
    tech = make_staff(Role.TECHNICIAN, sites=[world["site"]])
    headers = api_auth(tech)
    assert ids(client.get("/api/v1/customers", **headers)) == []
    assert client.get(f"/api/v1/customers/{world['customer'].id}", **headers).status_code == 404


@pytest.mark.parametrize("q", ["王芳", "13812345678", "138 1234 5678", "5678", "1-2-301"])
def test_search_by_name_phone_last_four_and_room(client, world, q):
    make_customer(world["site"], world["agent"], name="李四", phone="13700000000", room=("3", "1", "101"))
    assert ids(client.get("/api/v1/customers", {"q": q}, **api_auth(world["agent"]))) == [world["customer"].id]


def test_filters_by_site_tag_and_kind(client, world):
    director = make_staff(Role.DIRECTOR)
    company = make_customer(world["site"], world["agent"], name="某公司")
    Customer.objects.filter(pk=company.pk).update(kind="company")
    headers = api_auth(director)
    assert set(ids(client.get("/api/v1/customers", {"site": world["other"].id}, **headers))) == {world["foreign"].id}
    vip = world["customer"].tags.get().id
    assert ids(client.get("/api/v1/customers", {"tag": vip}, **headers)) == [world["customer"].id]
    assert ids(client.get("/api/v1/customers", {"kind": "company"}, **headers)) == [company.id]


def test_pagination_reports_total(client, world):
    for n in range(4):
        make_customer(world["site"], world["agent"], name=f"客户{n}")
    headers = api_auth(world["agent"])
    body = client.get("/api/v1/customers", {"limit": 2, "offset": 2}, **headers).json()
    assert body["count"] == 5 and body["limit"] == 2 and body["offset"] == 2
    assert len(body["items"]) == 2
    assert client.get("/api/v1/customers", {"limit": 101}, **headers).status_code == 422


def test_phones_are_masked_without_the_right(client, world):
    admin = make_staff(Role.ADMIN)
    headers = api_auth(admin)
    row = client.get("/api/v1/customers", {"q": "王芳"}, **headers).json()["items"][0]
    assert row["phone"] == "138****5678"
    detail = client.get(f"/api/v1/customers/{world['customer'].id}", **headers).json()
    assert [p["number"] for p in detail["phones"]] == ["138****5678"]


def test_detail_has_units_tags_phones_and_recent_tickets(client, world):
    ticket = make_ticket(world["site"], world["agent"], customer=world["customer"])
    make_ticket(world["other"], world["outsider"])
    body = client.get(f"/api/v1/customers/{world['customer'].id}", **api_auth(world["agent"])).json()
    assert body["name"] == "王芳" and body["version"] == 1
    assert body["phones"] == [{"number": "13812345678", "label": "", "is_primary": True}]
    assert body["units"][0]["label"] == "1-2-301" and body["units"][0]["relation"] == "owner"
    assert [t["name"] for t in body["tags"]] == ["VIP"]
    assert [t["number"] for t in body["recent_tickets"]] == [ticket.number]


@pytest.mark.parametrize("pk", ["0", "-1", "abc", "99999999999999999999999", "1.5"])
def test_detail_with_bad_ids_is_not_a_server_error(client, world, pk):
    response = client.get(f"/api/v1/customers/{pk}", **api_auth(world["agent"]))
    assert response.status_code in (404, 422)
    assert "detail" in response.json()


def test_list_query_count_does_not_grow_with_rows(client, world, django_assert_max_num_queries):
    agent, site = world["agent"], world["site"]
    headers = api_auth(agent)
    client.get("/api/v1/customers", **headers)  # first use stamps the token's last_used_at

    numbers = itertools.count(1)

    def make(n):
        for _ in range(n):
            i = next(numbers)
            make_customer(site, agent, phone=f"1360000{i:04d}", room=(str(i), "1", "101"), tags=["VIP", f"T{i % 3}"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/customers", {"limit": 50}, **headers)
        assert response.status_code == 200
        return len(ctx), len(response.json()["items"])

    make(4)
    few, rows = count()
    assert rows == 5
    make(20)
    many, rows = count()
    assert rows == 25
    assert many == few
    with django_assert_max_num_queries(few):
        client.get("/api/v1/customers", {"limit": 50, "q": "VIP"}, **headers)
    assert few <= 8


# --- writing ------------------------------------------------------------------------------


def new_customer(site, **extra):
    return {
        "site_id": site.id,
        "name": "赵六",
        "phones": ["13911112222", "0571-88889999"],
        "units": [{"building": "5", "entrance": "", "room": "1201", "relation": "tenant"}],
        "tags": ["会员"],
        **extra,
    }


def test_create_customer(client, world):
    response = post(client, "/api/v1/customers", new_customer(world["site"]), api_auth(world["agent"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "赵六" and body["site"]["id"] == world["site"].id
    assert [p["number"] for p in body["phones"]] == ["13911112222", "0571-88889999"]
    assert body["units"][0]["label"] == "5-1201" and body["units"][0]["relation"] == "tenant"
    customer = Customer.objects.get(pk=body["id"])
    assert customer.created_by == world["agent"]
    assert CustomerEvent.objects.filter(customer=customer, type="created").exists()


def test_create_with_service_errors_gives_field_messages(client, world):
    data = new_customer(world["site"], name="  ", phones=["12345"], email="not-an-email")
    response = post(client, "/api/v1/customers", data, api_auth(world["agent"]))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["name"] == ["姓名不能为空"]
    assert errors["phones"] == ["手机号码格式不正确：12345"]
    assert errors["email"] == ["邮箱格式不正确"]
    assert Customer.objects.count() == 2


def test_create_with_schema_errors(client, world):
    data = new_customer(world["site"], kind="alien", gender="x", units=[{"room": "1"}], phones="13911112222")
    response = post(client, "/api/v1/customers", data, api_auth(world["agent"]))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["kind"] == ["取值不正确，可选：person、company"]
    assert errors["units.0.building"] == ["必填"]
    assert errors["phones"] == ["应为列表"]
    assert errors["gender"] == ['取值不正确，可选：""、male、female']


def test_create_in_unknown_or_foreign_site(client, world):
    headers = api_auth(world["agent"])
    missing = post(client, "/api/v1/customers", new_customer(world["site"], site_id=999999), headers)
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"site_id": ["项目不存在"]}
    foreign = post(client, "/api/v1/customers", new_customer(world["other"]), headers)
    assert foreign.status_code == 403
    assert foreign.json()["detail"] == "无权在该项目建档"


def test_roles_without_edit_right_cannot_create(client, world):
    tech = make_staff(Role.TECHNICIAN, sites=[world["site"]])
    response = post(client, "/api/v1/customers", new_customer(world["site"]), api_auth(tech))
    assert response.status_code == 403
    assert response.json()["detail"] == "您没有编辑客户资料的权限"


def update_body(customer, **extra):
    return {
        "name": "王芳芳",
        "phones": ["13812345678"],
        "units": [{"building": "1", "entrance": "2", "room": "301"}],
        "tags": ["VIP", "会员"],
        "note": "老客户",
        "version": customer.version,
        **extra,
    }


def test_update_with_current_version(client, world):
    customer = world["customer"]
    response = put(client, f"/api/v1/customers/{customer.id}", update_body(customer), api_auth(world["agent"]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "王芳芳" and body["version"] == 2 and body["note"] == "老客户"
    assert sorted(t["name"] for t in body["tags"]) == ["VIP", "会员"]
    assert CustomerEvent.objects.filter(customer=customer, type="updated").exists()


def test_update_with_stale_version_is_409(client, world):
    customer = world["customer"]
    headers = api_auth(world["agent"])
    assert put(client, f"/api/v1/customers/{customer.id}", update_body(customer), headers).status_code == 200
    stale = put(client, f"/api/v1/customers/{customer.id}", update_body(customer, name="覆盖"), headers)
    assert stale.status_code == 409
    assert stale.json()["detail"] == CONFLICT_MESSAGE
    assert Customer.objects.get(pk=customer.pk).name == "王芳芳"


def test_update_requires_version(client, world):
    customer = world["customer"]
    data = update_body(customer)
    del data["version"]
    response = put(client, f"/api/v1/customers/{customer.id}", data, api_auth(world["agent"]))
    assert response.status_code == 422
    assert response.json()["errors"] == {"version": ["必填"]}


def test_outsider_cannot_update(client, world):
    customer = world["customer"]
    response = put(client, f"/api/v1/customers/{customer.id}", update_body(customer), api_auth(world["outsider"]))
    assert response.status_code == 404
    assert Customer.objects.get(pk=customer.pk).name == "王芳"
