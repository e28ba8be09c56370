"""The answer of ``POST /api/v1/tickets`` is built from the ticket as the service left it (no
re-read): it must say exactly what ``GET /api/v1/tickets/{id}`` says afterwards, for every
shape intake can take — dispatched by the rule, answered and closed at once, a major
complaint, a ticket with no category."""

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.org.models import Department, Role
from kefu.testing import api_auth, make_category, make_customer, make_site, make_staff

pytestmark = pytest.mark.django_db

_WRITTEN = re.compile(r'FROM "tickets_(ticketevent|assignment|complaint|complaintproposal)"')


@pytest.fixture
def world():
    site = make_site()
    eng = Department.objects.create(name="工程部", kind="engineering")
    agent = make_staff(Role.AGENT, sites=[site], name="小张")
    make_staff(Role.TECHNICIAN, sites=[site], department=eng, name="李师傅")
    make_staff(Role.MANAGER, sites=[site], name="刘经理")
    repairs = make_category("维修")
    plumbing = make_category("水电", parent=repairs, department=eng)
    customer = make_customer(site, agent, name="王芳", phone="13812345678", room=("1", "2", "301"))
    return {"site": site, "agent": agent, "plumbing": plumbing, "customer": customer}


def _intake(world, **fields):
    return {
        "site_id": world["site"].id,
        "channel": "phone",
        "content": "厨房水管漏水，请尽快上门",
        "customer_id": world["customer"].id,
        "unit_id": world["customer"].unit_links.get().unit_id,
        **fields,
    }


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"kind": "repair", "category_id": "plumbing"}, id="dispatched-by-rule"),
        pytest.param({"kind": "inquiry", "answer": "物业费每年三月缴纳"}, id="answered-and-closed"),
        pytest.param({"kind": "complaint", "urgency": "critical", "category_id": "plumbing"}, id="major-complaint"),
        pytest.param({"kind": "suggestion"}, id="no-category"),
    ],
)
def test_intake_answer_is_what_the_detail_says(world, fields):
    if fields.get("category_id") == "plumbing":
        fields = {**fields, "category_id": world["plumbing"].id}
    client = Client()
    headers = api_auth(world["agent"])
    with CaptureQueriesContext(connection) as queries:
        created = client.post(
            "/api/v1/tickets", json.dumps(_intake(world, **fields)), content_type="application/json", **headers
        )
    assert created.status_code == 201, created.content
    # What intake wrote is answered from memory, not read back.
    read_back = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and _WRITTEN.search(q["sql"])]
    assert read_back == []
    answer = created.json()

    detail = client.get(f"/api/v1/tickets/{answer['id']}", **headers)
    assert detail.status_code == 200
    assert answer == detail.json()
    # What the cases are about, so that a change of shape is seen here too.
    if fields["kind"] == "repair":
        assert (answer["status"], answer["assignee"]["name"]) == ("dispatched", "李师傅")
        assert [e["type"] for e in answer["events"]] == ["created", "dispatch"]
    if fields["kind"] == "inquiry":
        assert (answer["status"], answer["first_contact_resolved"]) == ("closed", True)
    if fields["kind"] == "complaint":
        assert answer["is_major"] and answer["complaint"] is not None
