"""Tickets over the API: scope by persona, filters, intake, detail, and every command with
its version check."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.customers.models import CustomerUnit, Unit
from kefu.org.models import Department, Role
from kefu.testing import api_auth, make_category, make_customer, make_site, make_staff, make_ticket
from kefu.tickets import search
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import Ticket, TicketEvent, TicketSearch
from kefu.tickets.services import CONFLICT_MESSAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def world():
    site, other = make_site(), make_site()
    eng = Department.objects.create(name="工程部", kind="engineering")
    env = Department.objects.create(name="环境部", kind="environment")
    agent = make_staff(Role.AGENT, sites=[site], name="小张")
    supervisor = make_staff(Role.SUPERVISOR, sites=[site])
    tech = make_staff(Role.TECHNICIAN, sites=[site], department=eng, name="李师傅")
    tech2 = make_staff(Role.TECHNICIAN, sites=[site], department=eng, name="王师傅")
    cleaner = make_staff(Role.DEPT_STAFF, sites=[site], department=env)
    outsider = make_staff(Role.AGENT, sites=[other])
    repairs = make_category("维修")
    plumbing = make_category("水电", parent=repairs, department=eng)
    customer = make_customer(site, agent, name="王芳", phone="13812345678", room=("1", "2", "301"))
    return {
        "site": site,
        "other": other,
        "eng": eng,
        "env": env,
        "agent": agent,
        "supervisor": supervisor,
        "tech": tech,
        "tech2": tech2,
        "cleaner": cleaner,
        "outsider": outsider,
        "repairs": repairs,
        "plumbing": plumbing,
        "customer": customer,
    }


def post(client, url, data, headers):
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


# --- scope --------------------------------------------------------------------------------


def test_insider_sees_site_tickets_outsider_sees_none(client, world):
    ticket = make_ticket(world["site"], world["agent"], customer=world["customer"])
    foreign = make_ticket(world["other"], world["outsider"])
    assert ids(client.get("/api/v1/tickets", **api_auth(world["agent"]))) == [ticket.id]
    outsider = api_auth(world["outsider"])
    assert ids(client.get("/api/v1/tickets", **outsider)) == [foreign.id]
    assert ids(client.get("/api/v1/tickets", {"site": world["site"].id}, **outsider)) == []
    assert ids(client.get("/api/v1/tickets", {"q": "王芳"}, **outsider)) == []
    detail = client.get(f"/api/v1/tickets/{ticket.id}", **outsider)
    assert detail.status_code == 404
    assert detail.json()["detail"] == "工单不存在"


def test_outsider_gets_404_on_every_command(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"])
    headers = api_auth(world["outsider"])
    for action in ("dispatch", "transfer", "accept", "arrive", "start", "suspend", "resume", "complete"):
        response = post(client, f"/api/v1/tickets/{ticket.id}/{action}", {"version": 1, "reason": "x"}, headers)
        assert response.status_code == 404, action
    for action in ("confirm", "reject", "close", "cancel", "reopen"):
        body = {"version": 1, "reason": "x", "confirmed_by": "王", "method": "phone"}
        assert post(client, f"/api/v1/tickets/{ticket.id}/{action}", body, headers).status_code == 404, action
    assert post(client, f"/api/v1/tickets/{ticket.id}/notes", {"text": "看看"}, headers).status_code == 404
    assert fresh(ticket).version == ticket.version
    assert not TicketEvent.objects.filter(actor=world["outsider"]).exists()


def test_technician_sees_only_work_sent_to_him_or_his_department(client, world):
    mine = make_ticket(world["site"], world["agent"], category=world["plumbing"])  # auto → eng, least loaded tech
    assert mine.department == world["eng"]
    to_department = make_ticket(world["site"], world["agent"])
    post(
        client,
        f"/api/v1/tickets/{to_department.id}/dispatch",
        {"version": to_department.version, "department_id": world["eng"].id},
        api_auth(world["agent"]),
    )
    elsewhere = make_ticket(world["site"], world["agent"])
    post(
        client,
        f"/api/v1/tickets/{elsewhere.id}/dispatch",
        {"version": elsewhere.version, "department_id": world["env"].id},
        api_auth(world["agent"]),
    )
    undispatched = make_ticket(world["site"], world["agent"])
    tech_ids = set(ids(client.get("/api/v1/tickets", **api_auth(world["tech"]))))
    assert tech_ids == {mine.id, to_department.id}
    cleaner = api_auth(world["cleaner"])
    assert ids(client.get("/api/v1/tickets", **cleaner)) == [elsewhere.id]
    for hidden in (undispatched, mine):
        assert client.get(f"/api/v1/tickets/{hidden.id}", **cleaner).status_code == 404
        assert post(client, f"/api/v1/tickets/{hidden.id}/accept", {"version": 9}, cleaner).status_code == 404


def test_technician_sees_contact_phone_masked(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"], contact_phone="13912345678")
    row = client.get("/api/v1/tickets", **api_auth(ticket.assignee)).json()["items"][0]
    assert row["contact"]["phone"] == "139****5678"
    detail = client.get(f"/api/v1/tickets/{ticket.id}", **api_auth(world["agent"])).json()
    assert detail["contact"]["phone"] == "13912345678"


def test_administrators_read_no_service_records(client, world):
    make_ticket(world["site"], world["agent"])
    assert ids(client.get("/api/v1/tickets", **api_auth(make_staff(Role.ADMIN)))) == []


# --- list ---------------------------------------------------------------------------------


def test_row_columns(client, world):
    ticket = make_ticket(world["site"], world["agent"], customer=world["customer"], category=world["plumbing"])
    row = client.get("/api/v1/tickets", **api_auth(world["agent"])).json()["items"][0]
    assert row["number"] == ticket.number
    assert (row["kind"], row["kind_label"]) == ("repair", "报修")
    assert (row["status"], row["status_label"]) == ("dispatched", "已派单")
    assert row["category"] == {"id": world["plumbing"].id, "path": "维修 / 水电"}
    assert row["customer"] == {"id": world["customer"].id, "name": "王芳"}
    assert row["department"]["name"] == "工程部"
    assert row["assignee"]["id"] == ticket.assignee_id
    assert row["first_responder"] == {"id": world["agent"].id, "name": "小张"}
    assert row["overdue"] is False and row["version"] == ticket.version
    assert row["resolve_due"] and row["respond_due"]


def test_filters(client, world):
    agent = world["agent"]
    repair = make_ticket(world["site"], agent, customer=world["customer"], category=world["plumbing"])
    inquiry = make_ticket(
        world["site"], agent, kind="inquiry", channel="web", content="物业费怎么交", answer="前台缴纳"
    )
    complaint = make_ticket(world["site"], agent, kind="complaint", urgency="high", content="噪音扰民")
    headers = api_auth(agent)

    def find(**params):
        return set(ids(client.get("/api/v1/tickets", params, **headers)))

    assert find(kind="inquiry") == {inquiry.id}
    assert find(status="closed") == {inquiry.id}
    assert find(open="true") == {repair.id, complaint.id}
    assert find(channel="web") == {inquiry.id}
    assert find(urgency="high") == {complaint.id}
    assert find(category=world["plumbing"].id) == {repair.id}
    assert find(department=world["eng"].id) == {repair.id}
    assert find(assignee=repair.assignee_id) == {repair.id}
    assert find(customer=world["customer"].id) == {repair.id}
    assert find(q=repair.number) == {repair.id}
    assert find(q="噪音") == {complaint.id}
    assert find(q="5678") == {repair.id}
    today = timezone.localdate()
    assert find(date_from=today.isoformat(), date_to=today.isoformat()) == {repair.id, inquiry.id, complaint.id}
    assert find(date_from=(today + timedelta(days=1)).isoformat()) == set()
    bad = client.get("/api/v1/tickets", {"kind": "party", "date_to": "2026-13-40", "overdue": "maybe"}, **headers)
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"kind", "date_to", "overdue"}


def test_overdue_filter_and_flag(client, world):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        late = make_ticket(world["site"], world["agent"])
    make_ticket(world["site"], world["agent"])
    headers = api_auth(world["agent"])
    assert ids(client.get("/api/v1/tickets", {"overdue": 1}, **headers)) == [late.id]
    rows = {r["id"]: r["overdue"] for r in client.get("/api/v1/tickets", **headers).json()["items"]}
    assert rows[late.id] is True and list(rows.values()).count(True) == 1


def test_ordering_and_pagination(client, world):
    tickets = [make_ticket(world["site"], world["agent"], urgency=u) for u in ("low", "critical", "normal")]
    headers = api_auth(world["agent"])
    newest_first = ids(client.get("/api/v1/tickets", **headers))
    assert newest_first == [t.id for t in reversed(tickets)]
    by_due = ids(client.get("/api/v1/tickets", {"ordering": "resolve_due"}, **headers))
    assert by_due == [tickets[1].id, tickets[2].id, tickets[0].id]
    page = client.get("/api/v1/tickets", {"limit": 1, "offset": 1}, **headers).json()
    assert page["count"] == 3 and [r["id"] for r in page["items"]] == [newest_first[1]]
    assert client.get("/api/v1/tickets", {"ordering": "id; DROP"}, **headers).status_code == 422


def test_list_query_count_does_not_grow_with_rows(client, world, django_assert_max_num_queries):
    agent, site = world["agent"], world["site"]
    leak = make_category("漏水", parent=world["plumbing"])
    headers = api_auth(agent)
    client.get("/api/v1/tickets", **headers)  # first use stamps the token's last_used_at

    def make(n):
        for i in range(n):
            customer = world["customer"] if i % 2 else None
            category = [world["plumbing"], leak, None][i % 3]
            make_ticket(site, agent, customer=customer, category=category, contact_phone=f"1390000{i:04d}")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/tickets", {"limit": 50}, **headers)
        assert response.status_code == 200
        return len(ctx), len(response.json()["items"])

    make(5)
    few, rows = count()
    assert rows == 5
    make(20)
    many, rows = count()
    assert rows == 25
    assert many == few
    # A full-text search first asks how many hits it has (search.RANK_LIMIT): one query more;
    # on PostgreSQL the planner's estimate, then (under COUNT_LIMIT) a count from the index.
    with django_assert_max_num_queries(few + (2 if connection.vendor == "postgresql" else 1)):
        client.get("/api/v1/tickets", {"limit": 50, "q": "漏水", "open": "1"}, **headers)
    assert few <= 7


# --- intake -------------------------------------------------------------------------------


def intake(world, **extra):
    return {
        "site_id": world["site"].id,
        "kind": "repair",
        "channel": "phone",
        "content": "卫生间漏水",
        "customer_id": world["customer"].id,
        **extra,
    }


def test_create_auto_dispatches_by_category(client, world):
    data = intake(
        world, category_id=world["plumbing"].id, urgency="high", unit_id=world["customer"].unit_links.get().unit_id
    )
    response = post(client, "/api/v1/tickets", data, api_auth(world["agent"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("BX-")
    assert body["status"] == "dispatched" and body["department"]["name"] == "工程部"
    assert body["first_responder"]["id"] == world["agent"].id
    assert body["unit"]["label"] == "1-2-301"
    assert [e["type"] for e in body["events"]] == ["created", "dispatch"]
    assert body["assignments"][0]["mode"] == "auto"


def test_the_customers_own_unit_costs_no_query_and_is_searchable(client, world):
    """Intake reads the customer with their units: the unit taken is one of them (no lookup of
    its own) and the search document gets every room of theirs without reading them again,
    the same document a rebuild writes. A unit that is not theirs is still looked up."""
    headers = api_auth(world["agent"])
    customer = world["customer"]
    second = Unit.objects.create(site=world["site"], building="7", entrance="", room="1201")
    CustomerUnit.objects.create(customer=customer, unit=second)
    stranger_unit = Unit.objects.create(site=world["site"], building="8", entrance="1", room="602")
    post(client, "/api/v1/tickets", intake(world), headers)  # the token's first use stamps it

    def create(**extra):
        with CaptureQueriesContext(connection) as ctx:
            response = post(client, "/api/v1/tickets", intake(world, **extra), headers)
        assert response.status_code == 201, response.content
        # The reads of units and links (the totals also hold the reference data's timed check).
        reads = [q["sql"] for q in ctx if q["sql"].startswith("SELECT") and "customers_unit" in q["sql"]]
        return len(reads), Ticket.objects.get(pk=response.json()["id"])

    assert create()[0] == 1  # the links with their units, read along with the customer
    own, mine = create(unit_id=second.pk)
    other, theirs = create(unit_id=stranger_unit.pk)
    assert (own, other) == (1, 2)
    assert (mine.unit, theirs.unit) == (second, stranger_unit)
    for t in (mine, theirs):
        document = TicketSearch.objects.get(ticket=t).document
        assert document == search.ticket_document(t)
        for room in ("1-2-301", "7-1201"):
            assert set(search.segment(room).split()) <= set(document.split()), room


def test_inquiry_answered_at_intake_is_closed(client, world):
    data = intake(world, kind="inquiry", content="停车费多少", answer="每月300元")
    body = post(client, "/api/v1/tickets", data, api_auth(world["agent"])).json()
    assert body["status"] == "closed" and body["first_contact_resolved"] is True
    reply = next(e for e in body["events"] if e["type"] == "reply")
    assert reply["note"] == "每月300元" and reply["visibility"] == "public"


def test_create_validation_messages(client, world):
    headers = api_auth(world["agent"])
    response = post(client, "/api/v1/tickets", intake(world, content="  ", kind="praise", answer="谢谢"), headers)
    assert response.status_code == 422
    assert response.json()["errors"] == {"content": ["内容不能为空"], "answer": ["只有咨询可以在受理时直接答复办结"]}
    wrong_kind = post(
        client, "/api/v1/tickets", intake(world, category_id=make_category(kinds=["inquiry"]).id), headers
    )
    assert wrong_kind.json()["errors"] == {"category_id": ["该分类不适用于所选工单类型"]}
    schema = post(client, "/api/v1/tickets", intake(world, kind="party", site_id="one"), headers)
    assert schema.status_code == 422
    assert set(schema.json()["errors"]) == {"kind", "site_id"}


def test_create_refuses_records_outside_scope(client, world):
    headers = api_auth(world["agent"])
    foreign_customer = make_customer(world["other"], world["outsider"])
    response = post(client, "/api/v1/tickets", intake(world, customer_id=foreign_customer.id), headers)
    assert response.status_code == 422
    assert response.json()["errors"] == {"customer_id": ["客户不存在"]}
    foreign_site = post(client, "/api/v1/tickets", intake(world, site_id=world["other"].id, customer_id=None), headers)
    assert foreign_site.status_code == 422
    assert foreign_site.json()["errors"]["site_id"] == ["无权在该项目受理工单"]
    unknown = post(client, "/api/v1/tickets", intake(world, category_id=987654, unit_id=987654), headers)
    assert unknown.json()["errors"] == {"category_id": ["分类不存在"], "unit_id": ["房屋不存在"]}
    assert Ticket.objects.count() == 0


def test_technician_cannot_take_intake(client, world):
    response = post(
        client, "/api/v1/tickets", intake(world, customer_id=None, contact_phone="13800000000"), api_auth(world["tech"])
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "您没有受理工单的权限"


# --- detail -------------------------------------------------------------------------------


def test_detail_has_timeline_assignments_and_allowed_actions(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"])
    body = client.get(f"/api/v1/tickets/{ticket.id}", **api_auth(world["agent"])).json()
    created = body["events"][0]
    assert created["type"] == "created" and created["actor"]["name"] == "小张"
    assert created["visibility"] == "internal" and created["data"] == {"channel": "phone"}
    assert body["assignments"][0]["to_department"]["name"] == "工程部"
    agent_actions = {a["code"] for a in body["allowed_actions"]}
    assert "accept" not in agent_actions and {"suspend", "cancel"} <= agent_actions
    tech_view = client.get(f"/api/v1/tickets/{ticket.id}", **api_auth(ticket.assignee)).json()
    assert {"code": "accept", "label": "接单"} in tech_view["allowed_actions"]


# --- commands -----------------------------------------------------------------------------


def act(client, ticket, action, headers, **data):
    data.setdefault("version", fresh(ticket).version)
    return post(client, f"/api/v1/tickets/{ticket.id}/{action}", data, headers)


def test_repair_flow_through_the_api(client, world):
    agent, tech = api_auth(world["agent"]), api_auth(world["tech"])
    ticket = make_ticket(world["site"], world["agent"], customer=world["customer"])
    response = act(client, ticket, "dispatch", agent, assignee_id=world["tech"].id, reason="就近")
    assert response.status_code == 200, response.content
    assert response.json()["assignee"]["id"] == world["tech"].id
    assert response.json()["department"]["id"] == world["eng"].id
    assert act(client, ticket, "accept", tech).json()["status"] == "accepted"
    assert act(client, ticket, "arrive", tech, note="已到现场").json()["status"] == "in_progress"
    done = act(
        client,
        ticket,
        "complete",
        tech,
        work_notes="更换阀芯",
        materials="阀芯1个",
        work_hours="1.5",
        is_paid=True,
        fee=30,
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["status"] == "pending_confirm" and body["fee"] == "30.00" and body["work_hours"] == "1.50"
    confirmed = act(client, ticket, "confirm", agent, confirmed_by="王芳", method="phone")
    assert confirmed.json()["status"] == "resolved" and confirmed.json()["confirm_method"] == "phone"
    closed = act(client, ticket, "close", agent)
    assert closed.json()["status"] == "closed"
    reopened = act(client, ticket, "reopen", agent, reason="业主反映仍漏水")
    assert reopened.json()["status"] == "received" and reopened.json()["reopen_count"] == 1
    types = [e.type for e in fresh(ticket).events.all()]
    assert types == [
        "created",
        "dispatch",
        "accept",
        "arrive",
        "complete",
        "visit_planned",
        "confirm",
        "close",
        "reopen",
    ]


def test_dispatch_by_rule_when_no_target_given(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"], auto_dispatch=False)
    assert ticket.status == Status.RECEIVED
    body = act(client, ticket, "dispatch", api_auth(world["agent"])).json()
    assert body["status"] == "dispatched" and body["department"]["id"] == world["eng"].id
    assert body["assignments"][-1]["mode"] == "auto"


def test_dispatch_without_rule_or_target_is_422_on_department(client, world):
    ticket = make_ticket(world["site"], world["agent"])
    response = act(client, ticket, "dispatch", api_auth(world["agent"]))
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"department_id"}


def test_dispatch_to_unknown_or_mismatched_targets(client, world):
    ticket = make_ticket(world["site"], world["agent"])
    headers = api_auth(world["agent"])
    unknown = act(client, ticket, "dispatch", headers, department_id=999999, assignee_id=world["outsider"].id)
    assert unknown.json()["errors"] == {
        "department_id": ["部门不存在"],
        "assignee_id": ["处理人不存在或不在您负责的项目"],
    }
    mismatch = act(client, ticket, "dispatch", headers, department_id=world["env"].id, assignee_id=world["tech"].id)
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"] == {"assignee_id": ["处理人不属于所选部门"]}


def test_transfer_needs_a_reason_and_a_supervisor(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"])
    no_reason = act(
        client, ticket, "transfer", api_auth(world["supervisor"]), reason=" ", assignee_id=world["tech2"].id
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"] == {"reason": ["请填写转派原因"]}
    agent = act(client, ticket, "transfer", api_auth(world["agent"]), reason="忙", assignee_id=world["tech2"].id)
    assert agent.status_code == 403
    target = world["tech2"] if ticket.assignee_id != world["tech2"].id else world["tech"]
    ok = act(client, ticket, "transfer", api_auth(world["supervisor"]), reason="忙不过来", assignee_id=target.id)
    assert ok.status_code == 200
    assert ok.json()["assignee"]["id"] == target.id and ok.json()["assignments"][-1]["mode"] == "transfer"


def test_agent_cannot_accept_for_the_technician(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"])
    response = act(client, ticket, "accept", api_auth(world["agent"]))
    assert response.status_code == 403
    assert response.json()["detail"] == "您没有权限对该工单执行“接单”"


def test_suspend_and_resume(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"])
    headers = api_auth(world["agent"])
    missing = act(client, ticket, "suspend", headers, reason="")
    assert missing.json()["errors"] == {"reason": ["请填写挂起原因"]}
    assert act(client, ticket, "suspend", headers, reason="业主不在家").json()["status"] == "suspended"
    assert act(client, ticket, "resume", headers).json()["status"] == "dispatched"


def test_cancel_records_reason(client, world):
    ticket = make_ticket(world["site"], world["agent"])
    body = act(client, ticket, "cancel", api_auth(world["agent"]), reason="重复报修").json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "重复报修"


def test_start_and_reject_on_desk_kinds(client, world):
    ticket = make_ticket(world["site"], world["agent"], kind="help", content="帮忙搬家具")
    headers = api_auth(world["agent"])
    act(client, ticket, "dispatch", headers, assignee_id=world["tech"].id)
    tech = api_auth(world["tech"])
    act(client, ticket, "accept", tech)
    assert act(client, ticket, "start", tech).json()["status"] == "in_progress"
    no_result = act(client, ticket, "complete", tech)
    assert no_result.json()["errors"] == {"note": ["请填写处理结果"]}
    assert act(client, ticket, "complete", tech, note="已搬好").json()["status"] == "pending_confirm"
    assert act(client, ticket, "reject", headers, reason="没搬完").json()["status"] == "in_progress"


def test_complete_field_report_errors(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"])
    tech = api_auth(ticket.assignee)
    act(client, ticket, "accept", tech)
    act(client, ticket, "arrive", tech)
    response = act(client, ticket, "complete", tech, is_paid=True, work_hours=-1)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["work_notes"] == ["请填写维修记录"]
    assert errors["fee"] == ["有偿服务请填写费用"]
    assert errors["work_hours"] == ["工时必须在 0 到 999 之间"]
    schema = act(client, ticket, "complete", tech, work_notes="修好", fee="三十")
    assert schema.json()["errors"] == {"fee": ["应为数字"]}
    assert fresh(ticket).status == Status.IN_PROGRESS


def test_confirm_validates_method(client, world):
    response = post(
        client,
        "/api/v1/tickets/1/confirm",
        {"version": 1, "confirmed_by": "王", "method": "fax"},
        api_auth(world["agent"]),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"method": ["取值不正确，可选：phone、onsite、link"]}


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("dispatch", {"department_id": "eng"}),
        ("transfer", {"reason": "换人", "assignee_id": "tech2"}),
        ("accept", {}),
        ("suspend", {"reason": "等配件"}),
        ("cancel", {"reason": "重复"}),
        ("complete", {"note": "已处理"}),
        ("notes", {"text": "记录一下"}),
    ],
)
def test_stale_version_is_409_and_changes_nothing(client, world, action, body):
    ticket = make_ticket(world["site"], world["agent"], kind="help", content="帮忙")
    headers = api_auth(world["supervisor"])
    if action in ("accept", "transfer", "complete"):
        act(client, ticket, "dispatch", headers, assignee_id=world["tech"].id)
    if action == "complete":
        act(client, ticket, "accept", headers)
    body = {k: (world[v].id if k.endswith("_id") else v) for k, v in body.items()}
    before = fresh(ticket)
    response = post(client, f"/api/v1/tickets/{ticket.id}/{action}", {**body, "version": before.version - 1}, headers)
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == CONFLICT_MESSAGE
    after = fresh(ticket)
    assert (after.version, after.status) == (before.version, before.status)
    assert after.events.count() == before.events.count()


def test_notes_internal_and_public(client, world):
    ticket = make_ticket(world["site"], world["agent"], category=world["plumbing"])
    headers = api_auth(world["agent"])
    internal = post(client, f"/api/v1/tickets/{ticket.id}/notes", {"text": "业主下午在家"}, headers)
    assert internal.status_code == 201
    assert internal.json()["type"] == "note" and internal.json()["visibility"] == "internal"
    public = post(client, f"/api/v1/tickets/{ticket.id}/notes", {"text": "师傅下午到", "public": True}, headers)
    assert public.json()["type"] == "reply" and public.json()["visibility"] == "public"
    empty = post(client, f"/api/v1/tickets/{ticket.id}/notes", {"text": "  "}, headers)
    assert empty.status_code == 422 and empty.json()["errors"] == {"text": ["内容不能为空"]}


def test_action_on_missing_ticket_is_404(client, world):
    response = post(client, "/api/v1/tickets/987654/accept", {"version": 1}, api_auth(world["agent"]))
    assert response.status_code == 404


def test_refused_transition_explains_the_status(client, world):
    ticket = make_ticket(world["site"], world["agent"])
    response = act(client, ticket, "close", api_auth(world["agent"]))
    assert response.status_code == 422
    assert response.json()["detail"] == "工单当前状态为“已受理”，不能执行“关闭”"


# --- categories ---------------------------------------------------------------------------


def test_categories_flat_tree_with_paths(client, world):
    leak = make_category("漏水", parent=world["plumbing"])
    make_category("咨询类", kinds=["inquiry"])
    make_category("停用", parent=world["repairs"]).__class__.objects.filter(name="停用").update(is_active=False)
    headers = api_auth(world["agent"])
    rows = client.get("/api/v1/categories", **headers).json()
    assert [(r["path"], r["depth"]) for r in rows] == [
        ("维修", 0),
        ("维修 / 水电", 1),
        ("维修 / 水电 / 漏水", 2),
        ("咨询类", 0),
    ]
    assert rows[2]["id"] == leak.id and rows[2]["parent_id"] == world["plumbing"].id
    assert rows[1]["department_id"] == world["eng"].id
    repair_only = [r["name"] for r in client.get("/api/v1/categories", {"kind": "repair"}, **headers).json()]
    assert "咨询类" not in repair_only and "漏水" in repair_only
    assert client.get("/api/v1/categories", {"kind": "x"}, **headers).status_code == 422
