"""Periodic and campaign visits drawn from the customer records, and member coverage."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.customers.services import customer_assign
from kefu.org.models import Role
from kefu.testing import make_customer, make_staff
from kefu.tickets.models import Ticket
from kefu.visits.models import Visit, VisitCampaign
from kefu.visits.queries import member_coverage
from kefu.visits.services import campaign_create, visit_record

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SH)


@pytest.fixture
def members(world):
    """Four members (会员) and one ordinary customer besides 张业主."""
    with time_machine.travel(NOW, tick=False):
        people = [
            make_customer(
                world.site,
                world.agent,
                name=f"会员{i}",
                phone=f"1371000{i:04d}",
                room=("8", "1", f"{i}01"),
                tags=["会员"],
            )
            for i in range(1, 5)
        ]
        make_customer(world.site, world.agent, name="普通客户", phone="13710009999", room=("8", "1", "901"))
    return people


def _campaign(world, **extra) -> VisitCampaign:
    fields = {
        "site": world.site,
        "name": "12月会员回访",
        "kind": "periodic",
        "start": date(2026, 12, 1),
        "end": date(2026, 12, 31),
        "actor": world.supervisor,
        "tags": ["会员"],
    }
    fields.update(extra)
    with time_machine.travel(NOW, tick=False):
        return campaign_create(**fields)


def test_periodic_visits_for_members_due_by_the_end_date(world, members):
    campaign = _campaign(world)
    visits = list(Visit.objects.filter(campaign=campaign).order_by("customer_id"))
    assert [v.customer_id for v in visits] == [m.id for m in members] and campaign.total == 4
    assert {v.due_at for v in visits} == {datetime(2026, 12, 31, 20, 59, tzinfo=SH)}  # 23:59 is quiet: 20:59
    assert {v.next_try_at for v in visits} == {NOW}
    assert {v.kind for v in visits} == {"periodic"} and {v.contact_phone[:7] for v in visits} == {"1371000"}


def test_building_and_last_visit_filters(world, members):
    first = _campaign(world, name="第一轮")
    done = Visit.objects.filter(campaign=first).order_by("id").first()
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        visit_record(visit=done, actor=world.supervisor, version=done.version, result="satisfied")
    second = _campaign(world, name="第二轮", tags=[], building="8", older_than_days=30)
    customers = set(Visit.objects.filter(campaign=second).values_list("customer_id", flat=True))
    assert done.customer_id not in customers and len(customers) == 4  # three members + the ordinary one


def test_the_customers_own_agent_makes_the_visit(world, members):
    second = make_staff(Role.AGENT, sites=[world.site], name="孙专员")
    customer_assign(customers=members[:2], actor=world.supervisor, to=second)
    campaign = _campaign(world)
    owners = dict(Visit.objects.filter(campaign=campaign).values_list("customer_id", "assignee_id"))
    assert owners[members[0].id] == owners[members[1].id] == second.id


def test_validation_and_permissions(world, members):
    with pytest.raises(PermissionDenied):
        _campaign(world, actor=world.agent)
    with pytest.raises(PermissionDenied):
        _campaign(world, site=world.other_site)
    for extra, field in (
        ({"name": ""}, "name"),
        ({"end": date(2026, 11, 1)}, "end"),
        ({"start": None}, "end"),
        ({"kind": "party"}, "kind"),
        ({"older_than_days": 0}, "older_than_days"),
        ({"tags": ["无人有此标签"]}, "tags"),
    ):
        with pytest.raises(ValidationFailed) as err:
            _campaign(world, **extra)
        assert field in err.value.fields, extra
    assert not VisitCampaign.objects.exists() and not Visit.objects.exists()


def test_dissatisfied_campaign_visit_opens_a_complaint(world, members):
    campaign = _campaign(world)
    visit = Visit.objects.filter(campaign=campaign).order_by("id").first()
    visit_record(visit=visit, actor=world.agent, version=visit.version, result="dissatisfied", reason="电梯经常坏")
    complaint = Ticket.objects.get(kind="complaint")
    assert complaint.customer_id == visit.customer_id and "电梯经常坏" in complaint.content
    assert Visit.objects.get(pk=visit.pk).followup_id == complaint.id


def test_member_coverage_by_hand(world, members):
    """4 members, 2 owned by 孙专员; members 1 and 3 visited in December (member 1 twice), member 2
    visited in November: December coverage 2/4 = 50 %, 孙专员 1/2, unassigned 1/2."""
    second = make_staff(Role.AGENT, sites=[world.site], name="孙专员")
    customer_assign(customers=members[:2], actor=world.supervisor, to=second)

    def visited(customer, when):
        Visit.objects.create(site=world.site, customer=customer, kind="periodic", status="done",
                             due_at=when, done_at=when, result="satisfied")  # fmt: skip

    visited(members[0], datetime(2026, 12, 3, 10, 0, tzinfo=SH))
    visited(members[0], datetime(2026, 12, 9, 10, 0, tzinfo=SH))
    visited(members[2], datetime(2026, 12, 4, 10, 0, tzinfo=SH))
    visited(members[1], datetime(2026, 11, 28, 10, 0, tzinfo=SH))
    figures = member_coverage(site_ids=[world.site.id], tags=["会员", "VIP"], start=date(2026, 12, 1),
                              end=date(2026, 12, 31))  # fmt: skip
    assert (figures["total"], figures["visited"], figures["rate"]) == (4, 2, 50.0)
    by_owner = {r["owner"]: (r["total"], r["visited"], r["rate"]) for r in figures["rows"]}
    assert by_owner == {"孙专员": (2, 1, 50.0), "": (2, 1, 50.0)}
    november = member_coverage(site_ids=[world.site.id], tags=["会员"], start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert (november["visited"], november["rate"]) == (1, 25.0)


def test_pages(world, members, client):
    with time_machine.travel(NOW, tick=False):
        client.force_login(world.supervisor.user)
        response = client.post(
            "/visits/campaigns/",
            {"site": world.site.id, "name": "元旦专项回访", "kind": "campaign", "start": "2026-12-20",
             "end": "2026-12-31", "tags": ["会员"]},
        )  # fmt: skip
        assert response.status_code == 302
        bad = client.post("/visits/campaigns/", {"site": world.site.id, "name": "", "start": "x", "end": "2026-13-01"})
        assert bad.status_code == 422
    client.force_login(world.supervisor.user)
    campaign = VisitCampaign.objects.get()
    assert f'data-campaign="{campaign.id}"' in client.get("/visits/campaigns/").content.decode()
    page = client.get("/visits/coverage/", {"start": "2026-12-01", "end": "2026-12-31"}).content.decode()
    assert 'id="members">4<' in page and 'id="rate"' in page
    assert client.get("/visits/coverage/", {"start": "garbage"}).status_code == 200
    client.force_login(world.agent.user)
    assert client.get("/visits/campaigns/").status_code == 403
    assert client.get("/visits/coverage/").status_code == 403
