"""Appraisal pages: who sees whose result, setting up a period, sign-off."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.appraisal.models import Appraisal, Period
from kefu.appraisal.services import period_compute, period_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(world):
    p = period_create(name="2026年11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                      actor=world.manager)  # fmt: skip
    period_compute(period=p)
    return p


def test_a_manager_sets_up_a_period_and_it_is_computed(world, client):
    client.force_login(world.supervisor.user)
    assert client.post("/appraisal/", {"name": "x", "start": "2026-11-01", "end": "2026-11-30",
                                       "sites": [world.site.id]}).status_code == 422  # fmt: skip
    client.force_login(world.manager.user)
    bad = client.post("/appraisal/", {"name": "", "start": "2026-11-30", "end": "x", "sites": ["abc"]})
    assert bad.status_code == 422 and not Period.objects.exists()
    ok = client.post("/appraisal/", {"name": "2026年11月", "start": "2026-11-01", "end": "2026-11-30",
                                     "sites": [world.site.id]})  # fmt: skip
    assert ok.status_code == 302
    period = Period.objects.get()
    assert Appraisal.objects.filter(period=period, staff=world.tech).exists()
    page = client.get(f"/appraisal/periods/{period.pk}/").content.decode()
    assert f'data-staff="{world.tech.name}"' in page and f'data-staff="{world.agent.name}"' in page
    export = client.get(f"/appraisal/periods/{period.pk}/?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_each_person_sees_their_own_and_a_supervisor_their_team(world, client, period):
    client.force_login(world.tech.user)
    page = client.get(f"/appraisal/periods/{period.pk}/").content.decode()
    assert f'data-staff="{world.tech.name}"' in page and f'data-staff="{world.agent.name}"' not in page
    others = Appraisal.objects.get(period=period, staff=world.agent)
    assert client.get(f"/appraisal/results/{others.pk}/").status_code == 404
    mine = Appraisal.objects.get(period=period, staff=world.tech)
    assert 'data-kpi="handled"' in client.get(f"/appraisal/results/{mine.pk}/").content.decode()
    client.force_login(world.supervisor.user)  # the agent and the front desk report to the supervisor
    page = client.get(f"/appraisal/periods/{period.pk}/").content.decode()
    assert f'data-staff="{world.agent.name}"' in page and f'data-staff="{world.tech.name}"' not in page
    client.force_login(world.outsider_agent.user)
    assert client.get(f"/appraisal/periods/{period.pk}/").status_code == 404


def test_sign_off_by_the_superior_only(world, client, period):
    agent = Appraisal.objects.get(period=period, staff=world.agent)
    client.force_login(world.agent.user)
    client.post(f"/appraisal/results/{agent.pk}/sign/")
    assert Appraisal.objects.get(pk=agent.pk).signed_by is None
    client.force_login(world.supervisor.user)
    assert 'id="sign"' in client.get(f"/appraisal/results/{agent.pk}/").content.decode()
    client.post(f"/appraisal/results/{agent.pk}/sign/")
    assert Appraisal.objects.get(pk=agent.pk).signed_by == world.supervisor
    # Recomputing the period clears the sign-off: the figures may have changed.
    period_compute(period=period)
    assert Appraisal.objects.get(pk=agent.pk).signed_by is None


def test_closing_a_period_freezes_it(world, client, period):
    client.force_login(world.supervisor.user)
    client.post(f"/appraisal/periods/{period.pk}/close/")
    assert Period.objects.get(pk=period.pk).status == "open"
    client.force_login(world.manager.user)
    client.post(f"/appraisal/periods/{period.pk}/close/")
    assert Period.objects.get(pk=period.pk).status == "closed"
    response = client.post(f"/appraisal/periods/{period.pk}/compute/", follow=True)
    assert "考核期已结束，不能重新计算" in response.content.decode()
