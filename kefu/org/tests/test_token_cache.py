"""The API's token lookup kept in each process (decision 0013): a call with a known token reads
no token, staff, account or sites row, and every change that can take a caller's access
away is seen by the next call."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.core import refdata
from kefu.core.numbering import next_value
from kefu.org.models import ApiToken, Role
from kefu.org.queries import token_holder
from kefu.org.services import api_token_issue, token_digest
from kefu.testing import make_site, make_staff

pytestmark = pytest.mark.django_db

AUTH_TABLES = ("org_apitoken", "org_staff", "auth_user", "org_staff_sites")


def _token(staff):
    token, _expires = api_token_issue(staff=staff)
    return token, {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _auth_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if any(f'FROM "{table}"' in q["sql"] for table in AUTH_TABLES)]


def test_a_known_token_is_looked_up_once(refdata_clock):
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    _token_text, headers = _token(agent)
    client = Client()
    assert client.get("/api/v1/me", **headers).status_code == 200
    refdata_clock(0.5)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/me", **headers).json()
    assert _auth_reads(queries.captured_queries) == []
    assert body["id"] == agent.id and [s["id"] for s in body["sites"]] == [site.id]


def test_each_call_gets_its_own_copy_of_the_staff_member(refdata_clock):
    agent = make_staff(Role.AGENT, sites=[make_site()])
    token, _headers = _token(agent)
    found = token_holder(token_digest(token))
    assert found is not None
    one, two = found.staff(), found.staff()
    one.name = "改过的名字"
    one._site_ids.add(999)
    assert two.name == agent.name and 999 not in two._site_ids
    assert one.user is not two.user and one.user is not found.holder.user
    assert token_holder(token_digest(token)).holder.name == agent.name


def test_unknown_tokens_are_not_kept():
    refdata.clear()
    for n in range(5):
        assert token_holder(token_digest(f"made-up-{n}")) is None
    assert not [key for key in refdata._entries if key.startswith("org.token:")]


def test_a_revoked_token_is_refused_at_the_next_call(refdata_clock):
    agent = make_staff(Role.AGENT)
    _first, first = _token(agent)
    _second, second = _token(agent)
    client = Client()
    assert client.get("/api/v1/me", **first).status_code == 200
    assert client.get("/api/v1/me", **second).status_code == 200
    assert client.delete("/api/v1/auth/token", **first).status_code == 204
    assert client.get("/api/v1/me", **first).status_code == 401
    assert client.get("/api/v1/me", **second).status_code == 200


def test_a_deactivated_staff_member_or_account_is_refused_at_the_next_call(refdata_clock):
    client = Client()
    staff_off, account_off = make_staff(Role.AGENT), make_staff(Role.AGENT)
    _a, headers_a = _token(staff_off)
    _b, headers_b = _token(account_off)
    assert client.get("/api/v1/me", **headers_a).status_code == 200
    assert client.get("/api/v1/me", **headers_b).status_code == 200
    staff_off.is_active = False
    staff_off.save()
    account_off.user.is_active = False
    account_off.user.save()
    assert client.get("/api/v1/me", **headers_a).status_code == 401
    assert client.get("/api/v1/me", **headers_b).status_code == 401


def test_a_changed_role_applies_at_the_next_call(refdata_clock):
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    _token_text, headers = _token(agent)
    client = Client()
    assert client.get("/api/v1/me", **headers).json()["role"] == "agent"
    agent.role = Role.SUPERVISOR
    agent.save()
    assert client.get("/api/v1/me", **headers).json()["role"] == "supervisor"


def test_changed_sites_apply_at_the_next_call(refdata_clock):
    mine, other = make_site(), make_site()
    agent = make_staff(Role.AGENT, sites=[mine])
    _token_text, headers = _token(agent)
    client = Client()
    assert [s["id"] for s in client.get("/api/v1/sites", **headers).json()] == [mine.id]
    agent.sites.add(other)
    assert {s["id"] for s in client.get("/api/v1/sites", **headers).json()} == {mine.id, other.id}
    agent.sites.remove(mine)
    assert [s["id"] for s in client.get("/api/v1/sites", **headers).json()] == [other.id]
    agent.sites.clear()
    assert client.get("/api/v1/sites", **headers).json() == []


def test_a_sign_in_keeps_the_lookup(refdata_clock):
    agent = make_staff(Role.AGENT)
    token, headers = _token(agent)
    client = Client()
    assert client.get("/api/v1/me", **headers).status_code == 200
    agent.user.last_login = timezone.now()
    agent.user.save(update_fields=["last_login"])
    assert f"org.token:{token_digest(token)}" in refdata._entries


def test_a_kept_token_still_expires(refdata_clock):
    agent = make_staff(Role.AGENT)
    _token_text, headers = _token(agent)
    client = Client()
    assert client.get("/api/v1/me", **headers).status_code == 200
    expires = ApiToken.objects.get().expires_at
    with time_machine.travel(expires + timedelta(seconds=1)):
        assert client.get("/api/v1/me", **headers).status_code == 401


def test_another_process_revoking_is_seen_within_a_second(refdata_clock):
    agent = make_staff(Role.AGENT)
    _token_text, headers = _token(agent)
    client = Client()
    assert client.get("/api/v1/me", **headers).status_code == 200
    # Another process deletes the row and bumps the counter; no signal reaches this one.
    ApiToken.objects.all()._raw_delete(ApiToken.objects.db)
    next_value(refdata.GENERATION_KEY)
    refdata_clock(refdata.CHECK_SECONDS / 2)
    assert client.get("/api/v1/me", **headers).status_code == 200  # not checked yet
    refdata_clock(refdata.CHECK_SECONDS)
    assert client.get("/api/v1/me", **headers).status_code == 401
