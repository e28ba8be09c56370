"""The complaint workspace (stepper, step forms, 待我批示) and the complaint API endpoints."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kefu.testing import api_auth, make_category
from kefu.tickets.lifecycle import Kind, Status
from kefu.tickets.models import Channel, Complaint, ComplaintProposal, Ticket, TicketEvent
from kefu.tickets.services import ticket_create


def _complaint(world, **extra) -> Ticket:
    return ticket_create(
        site=world.site,
        kind=Kind.COMPLAINT,
        channel=Channel.PHONE,
        content="楼道垃圾两天无人清理",
        actor=world.agent,
        customer=world.customer,
        **extra,
    )


def _post(client: Client, ticket: Ticket, action: str, **data) -> object:
    ticket.refresh_from_db()
    return client.post(f"/tickets/{ticket.pk}/{action}/", {"version": ticket.version, **data})


def _current_step(body: str) -> str:
    marker = 'aria-current="step"'
    before = body[: body.index(marker)]
    return before[before.rindex('data-step="') + 11 :].split('"')[0]


def test_six_steps_through_the_workspace(world, client):
    classification = make_category("保洁服务", kinds=["complaint"])
    ticket = _complaint(world)

    client.force_login(world.agent.user)
    body = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert _current_step(body) == "judge"
    assert "第二步：判定" in body
    response = _post(client, ticket, "judge", valid="1", reason="情况属实", department=world.security.id)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.INVESTIGATING and ticket.department_id == world.security.id

    client.force_login(world.guard.user)
    body = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert _current_step(body) == "investigate" and "第三步：调查" in body
    _post(
        client,
        ticket,
        "investigate",
        cause="保洁员请假无人替岗",
        responsible_department=world.security.id,
        responsible_person=world.guard.id,
    )
    _post(client, ticket, "propose", proposal=["当天清理并致歉", "", "赠送一次家政保洁"])
    ticket.refresh_from_db()
    assert ticket.status == Status.AWAITING_APPROVAL
    assert ComplaintProposal.objects.filter(complaint_id=ticket.pk).count() == 2  # the empty one is dropped

    # The guard cannot sign; the supervisor finds it in 待我批示.
    body = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "选定并批示" not in body
    client.force_login(world.supervisor.user)
    queue = client.get("/tickets/approvals/").content.decode()
    assert ticket.number in queue
    chosen = ComplaintProposal.objects.get(complaint_id=ticket.pk, text="赠送一次家政保洁")
    _post(client, ticket, "approve", proposal=chosen.id, instruction="同意，今日完成")
    assert ticket.number not in client.get("/tickets/approvals/").content.decode()

    _post(client, ticket, "implement", implementation="已清理并上门致歉", notify_method="onsite", penalty="通报批评")
    client.force_login(world.agent.user)
    _post(client, ticket, "confirm", confirmed_by="张业主", method="onsite", at="")
    client.force_login(world.supervisor.user)
    _post(
        client,
        ticket,
        "summarize",
        classification=classification.id,
        root_cause="无替岗机制",
        improvement="建立替岗制度",
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    body = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'aria-current="step"' not in body  # every step done
    assert body.count('class="done"') == 6
    assert "建立替岗制度" in body and "同意，今日完成" in body


def test_dismissed_complaint_shows_skipped_steps(world, client):
    ticket = _complaint(world)
    client.force_login(world.agent.user)
    _post(client, ticket, "judge", valid="0", reason="属市政管辖，已解释")
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    body = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert body.count('class="skipped"') == 4 and "不成立" in body


def test_refused_step_shows_the_error_and_writes_nothing(world, client):
    ticket = _complaint(world)
    client.force_login(world.agent.user)
    response = _post(client, ticket, "judge", valid="1", reason="")
    assert response.status_code == 422
    assert "请填写判定说明" in response.content.decode()
    response = _post(client, ticket, "judge", reason="x")
    assert response.status_code == 422 and "请选择投诉是否成立" in response.content.decode()
    assert Complaint.objects.get(pk=ticket.pk).judged_at is None
    assert not TicketEvent.objects.filter(ticket=ticket, type="judge").exists()


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("judge", {"valid": "1", "reason": "x" * 6000, "department": "abc", "assignee": "-1"}),
        ("judge", {"valid": "2", "reason": "\u200b"}),
        ("investigate", {"cause": "原因", "responsible_department": "99999999999999999999"}),
        ("propose", {"proposal": ["x" * 2001]}),
        ("approve", {"proposal": "1 OR 1=1", "instruction": "ok"}),
        ("implement", {"implementation": "x", "notify_method": "phone", "notified_at": "2026-02-30T25:61"}),
        ("implement", {"implementation": "x", "notify_method": "phone", "penalty_amount": "1e400"}),
        ("summarize", {"classification": "[]", "root_cause": "", "improvement": ""}),
        ("mark_major", {"reason": ""}),
    ],
)
def test_hostile_step_input_is_refused_cleanly(world, client, action, data):
    ticket = _complaint(world)
    client.force_login(world.supervisor.user)
    before = Ticket.objects.get(pk=ticket.pk).version
    response = _post(client, ticket, action, **data)
    assert response.status_code in (400, 403, 409, 422)
    assert Ticket.objects.get(pk=ticket.pk).version == before


def test_approvals_queue_is_for_supervisors_and_their_sites(world, client):
    client.force_login(world.agent.user)
    assert client.get("/tickets/approvals/").status_code == 403
    client.force_login(world.outsider_agent.user)
    assert client.get("/tickets/approvals/").status_code == 403


def test_outsider_cannot_open_or_act(world, client):
    ticket = _complaint(world)
    client.force_login(world.outsider_agent.user)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404
    assert _post(client, ticket, "judge", valid="0", reason="x").status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RECEIVED


def test_major_flag_at_intake_form(world, client):
    client.force_login(world.agent.user)
    response = client.post(
        "/tickets/intake/",
        {
            "site": world.site.id,
            "kind": "complaint",
            "channel": "phone",
            "urgency": "low",
            "customer": world.customer.id,
            "content": "电梯门夹伤小孩",
            "major": "1",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(content="电梯门夹伤小孩")
    assert ticket.is_major
    assert "重大" in client.get("/tickets/?kind=complaint").content.decode()


# --- API ------------------------------------------------------------------------------------


def _api(client: Client, staff, path: str, body: dict) -> tuple[int, dict]:
    response = client.post(f"/api/v1{path}", data=json.dumps(body), content_type="application/json", **api_auth(staff))
    return response.status_code, response.json()


def test_complaint_steps_over_the_api(world, client):
    classification = make_category("保洁服务", kinds=["complaint"])
    ticket = _complaint(world)
    base = f"/complaints/{ticket.pk}"
    status, body = _api(client, world.agent, f"{base}/judge", {"version": 1, "valid": True, "reason": "属实"})
    assert status == 200 and body["status"] == "investigating" and body["complaint"]["step"] == 3
    status, body = _api(
        client,
        world.supervisor,
        f"{base}/investigate",
        {"version": body["version"], "cause": "漏岗", "responsible_department_id": world.security.id},
    )
    assert status == 200 and body["complaint"]["responsible_department"]["name"] == "秩序维护部"
    status, body = _api(
        client, world.supervisor, f"{base}/propose", {"version": body["version"], "proposals": ["致歉"]}
    )
    assert status == 200 and body["status"] == "awaiting_approval"
    proposal = body["complaint"]["proposals"][0]["id"]

    listing = client.get("/api/v1/complaints/approvals", **api_auth(world.supervisor)).json()
    assert [t["number"] for t in listing["items"]] == [ticket.number]
    assert client.get("/api/v1/complaints/approvals", **api_auth(world.agent)).status_code == 403

    status, body = _api(
        client,
        world.agent,
        f"{base}/approve",
        {"version": body["version"], "proposal_id": proposal, "instruction": "同意"},
    )
    assert status == 403
    status, _ = _api(
        client, world.manager, f"{base}/approve", {"version": 999, "proposal_id": proposal, "instruction": "同意"}
    )
    assert status == 409
    version = Ticket.objects.get(pk=ticket.pk).version
    status, body = _api(
        client, world.manager, f"{base}/approve", {"version": version, "proposal_id": proposal, "instruction": "同意"}
    )
    assert status == 200 and body["complaint"]["chosen_id"] == proposal
    status, body = _api(
        client,
        world.supervisor,
        f"{base}/implement",
        {"version": body["version"], "implementation": "已致歉", "notify_method": "phone", "penalty_amount": "30"},
    )
    assert status == 422 and "penalty" in body["errors"]
    status, body = _api(
        client,
        world.supervisor,
        f"{base}/implement",
        {"version": version + 1, "implementation": "已致歉", "notify_method": "phone"},
    )
    assert status == 200 and body["status"] == "pending_confirm"
    status, body = _api(
        client, world.agent, f"/tickets/{ticket.pk}/reject", {"version": body["version"], "reason": "不满意"}
    )
    assert status == 200 and body["status"] == "proposing" and body["complaint"]["refusals"] == 1
    assert body["complaint"]["proposals"][0]["state"] == "refused"
    status, body = _api(
        client,
        world.supervisor,
        f"{base}/summarize",
        {"version": body["version"], "classification_id": classification.id, "root_cause": "a", "improvement": "b"},
    )
    assert status == 422  # not at the summary step yet


def test_api_judge_reports_the_field_the_client_sent(world, client):
    ticket = _complaint(world)
    status, body = _api(
        client,
        world.agent,
        f"/complaints/{ticket.pk}/judge",
        {"version": ticket.version, "valid": True, "reason": "x", "department_id": 987654},
    )
    assert status == 422 and "department_id" in body["errors"]


def test_api_mark_major(world, client):
    ticket = _complaint(world)
    status, body = _api(
        client, world.supervisor, f"/complaints/{ticket.pk}/major", {"version": 1, "reason": "媒体关注"}
    )
    assert status == 200 and body["is_major"] and body["major_reason"] == "媒体关注"
    status, _ = _api(client, world.outsider_agent, f"/complaints/{ticket.pk}/major", {"version": 2, "reason": "x"})
    assert status == 404


def test_menu_counts_complaints_waiting_for_instruction(world, client):
    from kefu.tickets.services import complaint_investigate, complaint_judge, complaint_propose

    ticket = _complaint(world)
    complaint_judge(ticket=ticket, actor=world.agent, version=ticket.version, valid=True, reason="属实")
    complaint_investigate(
        ticket=ticket,
        actor=world.supervisor,
        version=ticket.version,
        cause="漏岗",
        responsible_department=world.security,
    )
    client.force_login(world.supervisor.user)
    assert 'id="approvals-waiting"' not in client.get("/").content.decode()
    complaint_propose(ticket=ticket, actor=world.supervisor, version=ticket.version, proposals=["致歉"])
    body = client.get("/").content.decode()
    assert 'id="approvals-waiting">1<' in body
    client.force_login(world.agent.user)
    assert "/tickets/approvals/" not in client.get("/").content.decode()
