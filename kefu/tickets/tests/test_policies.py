"""时限标准与警告规则: who may change which rows, every validation rule, the settings page, the
API, and that a saved row really changes a new ticket's due times and the warning rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.org.models import Role
from kefu.testing import api_auth, make_site, make_staff, make_ticket
from kefu.tickets.models import SlaPolicy, WarningRules
from kefu.tickets.services.policies import (
    sla_policy_delete,
    sla_policy_save,
    warning_rules_delete,
    warning_rules_save,
)
from kefu.tickets.sla import Rules, due_times, rules_for
from kefu.tickets.views.policies import minutes_text

SH = ZoneInfo("Asia/Shanghai")
URL = "/tickets/sla-settings/"
RULES = {
    "blue_minutes": 30,
    "prewarn_percent": 75,
    "manager_after_minutes": 60,
    "director_after_minutes": 240,
    "red_after_minutes": 720,
}


def save_policy(actor, site=None, **changes):
    values = {"kind": "repair", "urgency": "high", "respond_minutes": 20, "resolve_minutes": 240}
    values.update(changes)
    return sla_policy_save(site=site, actor=actor, **values)


def save_rules(actor, site=None, **changes):
    return warning_rules_save(site=site, actor=actor, **{**RULES, **changes})


# --- who may change what ----------------------------------------------------------------------


def test_director_and_admin_keep_the_company_rows(world):
    policy = save_policy(world.director, arrive_minutes=60, visit_minutes=2880, business_hours=True)
    assert (policy.site_id, policy.arrive_minutes, policy.visit_minutes, policy.business_hours) == (
        None,
        60,
        2880,
        True,
    )
    again = save_policy(world.admin, respond_minutes=15)
    assert again.pk == policy.pk and SlaPolicy.objects.count() == 1
    assert (again.respond_minutes, again.arrive_minutes, again.business_hours) == (15, None, False)
    rules = save_rules(world.director)
    assert save_rules(world.admin, red_after_minutes=900).pk == rules.pk
    assert WarningRules.objects.get().red_after_minutes == 900


def test_manager_keeps_the_overrides_of_their_own_sites_only(world):
    override = save_policy(world.manager, site=world.site)
    assert override.site_id == world.site.id
    save_rules(world.manager, site=world.site)
    with pytest.raises(PermissionDenied):
        save_policy(world.manager)  # the company row
    with pytest.raises(PermissionDenied):
        save_rules(world.manager)
    with pytest.raises(PermissionDenied):
        save_policy(world.manager, site=world.other_site)
    other_manager = make_staff(Role.MANAGER, sites=[world.other_site])
    with pytest.raises(PermissionDenied):
        save_policy(other_manager, site=world.site, respond_minutes=1)
    with pytest.raises(PermissionDenied):
        sla_policy_delete(policy=override, actor=other_manager)
    with pytest.raises(PermissionDenied):
        save_rules(other_manager, site=world.site)
    assert SlaPolicy.objects.get().respond_minutes == 20


@pytest.mark.parametrize("persona", ["supervisor", "agent", "frontdesk", "tech", "outsider_agent"])
def test_other_roles_change_nothing(world, persona):
    actor = getattr(world, persona)
    for site in (None, world.site):
        with pytest.raises(PermissionDenied):
            save_policy(actor, site=site)
        with pytest.raises(PermissionDenied):
            save_rules(actor, site=site)
    # Refused before the input is even looked at.
    with pytest.raises(PermissionDenied):
        save_policy(actor, site=world.site, kind="nonsense", respond_minutes=-1)
    assert not SlaPolicy.objects.exists() and not WarningRules.objects.exists()


def test_overrides_may_be_deleted_the_company_rows_may_not(world):
    company = save_policy(world.director)
    override = save_policy(world.manager, site=world.site)
    with pytest.raises(ValidationFailed, match="不能删除"):
        sla_policy_delete(policy=company, actor=world.director)
    with pytest.raises(PermissionDenied):
        sla_policy_delete(policy=company, actor=world.manager)
    with pytest.raises(PermissionDenied):
        sla_policy_delete(policy=override, actor=world.supervisor)
    sla_policy_delete(policy=override, actor=world.manager)
    assert list(SlaPolicy.objects.values_list("pk", flat=True)) == [company.pk]

    company_rules, site_rules = save_rules(world.director), save_rules(world.manager, site=world.site)
    with pytest.raises(ValidationFailed, match="不能删除"):
        warning_rules_delete(rules=company_rules, actor=world.admin)
    with pytest.raises(PermissionDenied):
        warning_rules_delete(rules=site_rules, actor=world.supervisor)
    warning_rules_delete(rules=site_rules, actor=world.manager)
    assert list(WarningRules.objects.values_list("pk", flat=True)) == [company_rules.pk]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"kind": "\x00"}, "kind"),
        ({"urgency": "asap"}, "urgency"),
        ({"respond_minutes": 0}, "respond_minutes"),
        ({"respond_minutes": -5}, "respond_minutes"),
        ({"respond_minutes": 10081, "resolve_minutes": 20000}, "respond_minutes"),
        ({"respond_minutes": "30"}, "respond_minutes"),
        ({"respond_minutes": True}, "respond_minutes"),
        ({"respond_minutes": None}, "respond_minutes"),
        ({"respond_minutes": 1.5}, "respond_minutes"),
        ({"resolve_minutes": 0}, "resolve_minutes"),
        ({"resolve_minutes": 525601}, "resolve_minutes"),
        ({"resolve_minutes": 10**30}, "resolve_minutes"),
        ({"respond_minutes": 300, "resolve_minutes": 240}, "respond_minutes"),
        ({"kind": "inquiry", "arrive_minutes": 30}, "arrive_minutes"),
        ({"arrive_minutes": 0}, "arrive_minutes"),
        ({"arrive_minutes": 241}, "arrive_minutes"),
        ({"arrive_minutes": "soon"}, "arrive_minutes"),
        ({"visit_minutes": 0}, "visit_minutes"),
        ({"visit_minutes": 43201}, "visit_minutes"),
        ({"business_hours": "yes"}, "business_hours"),
    ],
)
def test_each_policy_rule_names_its_field_and_writes_nothing(world, changes, field):
    with pytest.raises(ValidationFailed) as info:
        save_policy(world.director, **changes)
    assert field in info.value.fields, info.value.fields
    assert all(message for messages in info.value.fields.values() for message in messages)
    assert not SlaPolicy.objects.exists()


def test_policy_errors_come_all_at_once_in_chinese(world):
    with pytest.raises(ValidationFailed) as info:
        save_policy(world.director, kind="praise", respond_minutes=0, resolve_minutes=600000, arrive_minutes=5)
    fields = info.value.fields
    assert set(fields) == {"respond_minutes", "resolve_minutes", "arrive_minutes"}
    assert fields["respond_minutes"] == ["响应时限须在 1 到 10080 分钟之间"]
    assert fields["resolve_minutes"] == ["办结时限须在 1 到 525600 分钟之间"]
    assert fields["arrive_minutes"] == ["只有报修工单有到场时限"]
    assert info.value.message == "响应时限须在 1 到 10080 分钟之间"


def test_a_failed_save_leaves_the_existing_row_as_it_was(world):
    save_policy(world.manager, site=world.site, respond_minutes=20)
    with pytest.raises(ValidationFailed):
        save_policy(world.manager, site=world.site, respond_minutes=25, resolve_minutes=0)
    assert SlaPolicy.objects.get().respond_minutes == 20


def test_the_bounds_themselves_are_accepted(world):
    policy = save_policy(
        world.director, respond_minutes=10080, resolve_minutes=525600, arrive_minutes=525600, visit_minutes=43200
    )
    assert (policy.respond_minutes, policy.resolve_minutes, policy.visit_minutes) == (10080, 525600, 43200)
    small = save_policy(world.director, urgency="low", respond_minutes=1, resolve_minutes=1, arrive_minutes=1)
    assert small.arrive_minutes == 1
    rules = save_rules(
        world.director,
        blue_minutes=43200,
        prewarn_percent=99,
        manager_after_minutes=1,
        director_after_minutes=43200,
        red_after_minutes=1,
    )
    assert rules.prewarn_percent == 99
    assert save_rules(world.director, prewarn_percent=1).prewarn_percent == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prewarn_percent": 0}, "prewarn_percent"),
        ({"prewarn_percent": 100}, "prewarn_percent"),
        ({"prewarn_percent": "80"}, "prewarn_percent"),
        ({"blue_minutes": 0}, "blue_minutes"),
        ({"blue_minutes": 43201}, "blue_minutes"),
        ({"manager_after_minutes": -1}, "manager_after_minutes"),
        ({"director_after_minutes": 2**63}, "director_after_minutes"),
        ({"manager_after_minutes": 300, "director_after_minutes": 200}, "director_after_minutes"),
        ({"red_after_minutes": 0}, "red_after_minutes"),
        ({"red_after_minutes": None}, "red_after_minutes"),
    ],
)
def test_each_warning_rule_names_its_field_and_writes_nothing(world, changes, field):
    with pytest.raises(ValidationFailed) as info:
        save_rules(world.director, **changes)
    assert field in info.value.fields, info.value.fields
    assert not WarningRules.objects.exists()
    with pytest.raises(ValidationFailed):
        save_rules(world.manager, site=world.site, **changes)
    assert not WarningRules.objects.exists()


def test_prewarn_message(world):
    with pytest.raises(ValidationFailed) as info:
        save_rules(world.director, prewarn_percent=100)
    assert info.value.fields == {"prewarn_percent": ["预警比例须在 1% 到 99% 之间"]}


# --- the rows take effect -------------------------------------------------------------------


def test_a_site_override_changes_a_new_tickets_due_times(world):
    save_policy(world.director, respond_minutes=30, resolve_minutes=480, arrive_minutes=120)
    before = make_ticket(world.site, world.agent, urgency="high", auto_dispatch=False)
    assert before.resolve_due - before.created_at == timedelta(minutes=480)

    save_policy(world.manager, site=world.site, respond_minutes=10, resolve_minutes=90, arrive_minutes=45)
    ticket = make_ticket(world.site, world.agent, urgency="high", auto_dispatch=False)
    assert ticket.respond_due - ticket.created_at == timedelta(minutes=10)
    assert ticket.arrive_due - ticket.created_at == timedelta(minutes=45)
    assert ticket.resolve_due - ticket.created_at == timedelta(minutes=90)
    # Only at that site.
    start = datetime(2026, 11, 23, 9, 0, tzinfo=SH)
    other = due_times(site_id=world.other_site.id, kind="repair", urgency="high", start=start)
    assert other.resolve == start + timedelta(minutes=480)

    # Counted in business hours: a Monday 17:00 start runs into Tuesday.
    save_policy(world.manager, site=world.site, respond_minutes=60, resolve_minutes=90, business_hours=True)
    monday_five = datetime(2026, 11, 23, 17, 0, tzinfo=SH)
    due = due_times(site_id=world.site.id, kind="repair", urgency="high", start=monday_five)
    assert due.respond.date() == monday_five.date() + timedelta(days=1)

    # Deleting the override puts the company row back.
    sla_policy_delete(policy=SlaPolicy.objects.get(site=world.site), actor=world.manager)
    due = due_times(site_id=world.site.id, kind="repair", urgency="high", start=start)
    assert due.resolve == start + timedelta(minutes=480)


def test_saved_warning_rules_are_what_the_engine_reads(world):
    assert rules_for(world.site.id).blue_minutes == Rules().blue_minutes
    save_rules(world.director, blue_minutes=45)
    assert rules_for(world.site.id).blue_minutes == 45
    save_rules(world.manager, site=world.site, blue_minutes=15, prewarn_percent=60)
    rules = rules_for(world.site.id)
    assert (rules.blue_minutes, rules.prewarn_percent, rules.red_after_minutes) == (15, 60, 720)
    assert rules_for(world.other_site.id).blue_minutes == 45
    warning_rules_delete(rules=WarningRules.objects.get(site=world.site), actor=world.manager)
    assert rules_for(world.site.id).blue_minutes == 45


# --- the page ---------------------------------------------------------------------------------


def test_minutes_are_also_said_in_hours_or_days():
    assert minutes_text(2880) == "2880 分钟（2 天）"
    assert minutes_text(2160) == "2160 分钟（1.5 天）"
    assert minutes_text(90) == "90 分钟（1.5 小时）"
    assert minutes_text(45) == "45 分钟"
    assert minutes_text(100) == "100 分钟"
    assert minutes_text(2880, business=True) == "2880 分钟（48 工作小时）"
    assert minutes_text(None) == "—"


def test_page_for_a_manager_edits_their_site_not_the_company(world, client, django_assert_max_num_queries):
    save_policy(world.director, resolve_minutes=2880)
    save_policy(world.manager, site=world.site, resolve_minutes=1440)
    save_rules(world.manager, site=world.site)
    client.force_login(world.manager.user)
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"site": world.site.id})
    body = response.content.decode()
    assert response.status_code == 200
    assert "2880 分钟（2 天）" in body and "1440 分钟（1 天）" in body
    assert 'data-dialog="dlg-s-repair-high"' in body and 'id="dlg-s-repair-high"' in body
    assert 'data-dialog="dlg-c-repair-high"' not in body  # the company rows are read-only for managers
    assert 'value="policy-delete"' in body and 'value="rules-delete"' in body
    assert world.other_site.name not in body  # not in the manager's scope


def test_page_for_a_director_edits_the_company_rows(world, client):
    client.force_login(world.director.user)
    body = client.get(URL, {"site": world.other_site.id}).content.decode()
    assert 'id="dlg-c-complaint-low"' in body and 'id="dlg-r-c"' in body
    assert world.other_site.name in body
    assert body.count('name="action" value="policy"') == 48  # 6 kinds × 4 urgencies, company and site


def test_page_is_read_only_for_a_supervisor(world, client):
    client.force_login(world.supervisor.user)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<dialog" not in body and 'method="post" action="/tickets/sla-settings/"' not in body
    assert world.site.name in body


@pytest.mark.parametrize("persona", ["agent", "frontdesk", "tech", "outsider_agent"])
def test_page_is_refused_below_supervisor(world, client, persona):
    client.force_login(getattr(world, persona).user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "rules", "site": "", **RULES}).status_code == 403
    assert not WarningRules.objects.exists()


def test_page_needs_a_login(client, db):
    assert client.get(URL).status_code == 302


def _policy_post(target, **changes):
    data = {
        "action": "policy",
        "site": "" if target is None else str(target.id),
        "page_site": "" if target is None else str(target.id),
        "kind": "repair",
        "urgency": "high",
        "respond_minutes": "20",
        "arrive_minutes": "60",
        "resolve_minutes": "240",
        "visit_minutes": "",
    }
    data.update(changes)
    return data


def test_forms_save_and_redirect_with_a_message(world, client):
    client.force_login(world.manager.user)
    response = client.post(URL, _policy_post(world.site, business_hours="1"), follow=True)
    assert response.redirect_chain[-1][0] == f"{URL}?site={world.site.id}"
    assert "时限标准已保存" in response.content.decode()
    policy = SlaPolicy.objects.get()
    assert (policy.site_id, policy.arrive_minutes, policy.visit_minutes, policy.business_hours) == (
        world.site.id,
        60,
        None,
        True,
    )
    response = client.post(URL, {"action": "rules", "site": world.site.id, "page_site": world.site.id, **RULES})
    assert response.status_code == 302
    assert WarningRules.objects.get().site_id == world.site.id
    response = client.post(URL, {"action": "policy-delete", "id": policy.id, "page_site": world.site.id})
    assert response.status_code == 302 and not SlaPolicy.objects.exists()
    rules = WarningRules.objects.get()
    assert client.post(URL, {"action": "rules-delete", "id": rules.id}).status_code == 302
    assert not WarningRules.objects.exists()

    client.force_login(world.director.user)
    assert client.post(URL, _policy_post(None)).status_code == 302
    assert client.post(URL, {"action": "rules", "site": "", **RULES}).status_code == 302
    company = SlaPolicy.objects.get(site=None)
    response = client.post(URL, {"action": "policy-delete", "id": company.id})
    assert response.status_code == 422 and SlaPolicy.objects.filter(pk=company.pk).exists()


def test_form_errors_rerender_with_the_form_open_and_write_nothing(world, client):
    client.force_login(world.manager.user)
    response = client.post(URL, _policy_post(world.site, respond_minutes="300", resolve_minutes="abc"))
    body = response.content.decode()
    assert response.status_code == 422
    assert "办结时限须为整数" in body
    assert '<dialog id="dlg-s-repair-high" open>' in body
    assert 'value="300"' in body  # what was typed stays in the form
    response = client.post(URL, _policy_post(world.site, respond_minutes="300"))
    assert response.status_code == 422 and "响应时限不能超过办结时限" in response.content.decode()
    response = client.post(URL, _policy_post(world.site, respond_minutes=""))
    assert response.status_code == 422 and "响应时限不能为空" in response.content.decode()
    response = client.post(URL, {"action": "rules", "site": world.site.id, **RULES, "prewarn_percent": "100"})
    body = response.content.decode()
    assert response.status_code == 422 and '<dialog id="dlg-r-s" open>' in body and "预警比例须在" in body
    assert not SlaPolicy.objects.exists() and not WarningRules.objects.exists()


def test_forms_refuse_what_the_role_or_scope_does_not_allow(world, client):
    client.force_login(world.manager.user)
    assert client.post(URL, _policy_post(None)).status_code == 403
    assert client.post(URL, _policy_post(world.other_site)).status_code == 403
    # A refusal comes before any complaint about the input.
    assert client.post(URL, _policy_post(None, respond_minutes="x")).status_code == 403
    assert client.post(URL, {"action": "rules", "site": "", **RULES}).status_code == 403
    client.force_login(world.supervisor.user)
    assert client.post(URL, _policy_post(world.site)).status_code == 403
    assert not SlaPolicy.objects.exists() and not WarningRules.objects.exists()
    override = save_policy(world.director, site=world.other_site)
    client.force_login(world.manager.user)
    assert client.post(URL, {"action": "policy-delete", "id": override.id}).status_code == 403
    assert SlaPolicy.objects.filter(pk=override.pk).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"respond_minutes": "-1"},
        {"respond_minutes": "1e3"},
        {"respond_minutes": "１２"},
        {"respond_minutes": "9" * 5000},
        {"resolve_minutes": "99999999999999999999999"},
        {"visit_minutes": "a\x00b"},
        {"arrive_minutes": "<script>alert(1)</script>"},
        {"kind": "\x00"},
        {"kind": "nonsense"},
        {"urgency": "' OR 1=1 --"},
        {"site": "abc"},
        {"site": "99999999999999999999999"},
        {"site": "0"},
        {"site": "\x00"},
        {"page_site": "\x00"},
        {"action": "nonsense"},
        {"action": "policy-delete", "id": "abc"},
        {"action": "policy-delete", "id": "99999999999999999999999"},
        {"action": "rules-delete", "id": "-1"},
        {"action": "rules", "blue_minutes": "客" * 1000},
    ],
)
def test_hostile_form_input_is_a_4xx(world, client, changes):
    client.force_login(world.director.user)
    response = client.post(URL, _policy_post(world.site, **changes))
    assert 400 <= response.status_code < 500
    assert not SlaPolicy.objects.exists() and not WarningRules.objects.exists()


def test_get_with_hostile_site_shows_a_site_of_ones_own(world, client):
    client.force_login(world.manager.user)
    for value in ("abc", "99999999999999999999999", str(world.other_site.id), "-1", "１"):
        response = client.get(URL, {"site": value})
        assert response.status_code == 200
        assert world.other_site.name not in response.content.decode()
    assert client.get(URL, {"site": "\x00"}).status_code == 400  # refused by the NUL guard


# --- the API ----------------------------------------------------------------------------------

API = "/api/v1"


def _put(client, path, body, staff):
    return client.put(f"{API}{path}", body, content_type="application/json", **api_auth(staff))


def _get(client, path, staff, **params):
    return client.get(f"{API}{path}", params, **api_auth(staff))


def _delete(client, path, staff):
    return client.delete(f"{API}{path}", **api_auth(staff))


def policy_body(site=None, **changes):
    body = {
        "site_id": None if site is None else site.id,
        "kind": "repair",
        "urgency": "high",
        "respond_minutes": 20,
        "arrive_minutes": 60,
        "resolve_minutes": 240,
    }
    body.update(changes)
    return body


def test_api_round_trip(world, client):
    response = _put(client, "/sla-policies", policy_body(visit_minutes=4320, business_hours=True), world.director)
    assert response.status_code == 200, response.content
    company = response.json()
    assert company["site"] is None and company["visit_minutes"] == 4320 and company["business_hours"] is True
    assert company["kind_label"] == "报修" and company["urgency_label"] == "紧急"
    # The same row again: replaced, not duplicated.
    response = _put(client, "/sla-policies", policy_body(respond_minutes=15), world.director)
    assert response.json()["id"] == company["id"] and response.json()["business_hours"] is False

    response = _put(client, "/sla-policies", policy_body(world.site, resolve_minutes=120), world.manager)
    assert response.status_code == 200, response.content
    override = response.json()
    assert override["site"] == {"id": world.site.id, "name": world.site.name}
    _put(client, "/sla-policies", policy_body(world.other_site), world.director)

    rows = _get(client, "/sla-policies", world.manager).json()
    assert [(r["site"] and r["site"]["id"], r["resolve_minutes"]) for r in rows] == [
        (None, 240),
        (world.site.id, 120),
    ]  # the other site's row is outside the manager's scope
    assert len(_get(client, "/sla-policies", world.director).json()) == 3
    assert len(_get(client, "/sla-policies", world.director, site=world.site.id).json()) == 2
    assert _get(client, "/sla-policies", world.director, kind="inquiry").json() == []
    assert len(_get(client, "/sla-policies", world.supervisor).json()) == 2  # supervisors may read

    assert _delete(client, f"/sla-policies/{override['id']}", world.manager).status_code == 204
    assert not SlaPolicy.objects.filter(pk=override["id"]).exists()
    assert _delete(client, f"/sla-policies/{override['id']}", world.manager).status_code == 404
    response = _delete(client, f"/sla-policies/{company['id']}", world.director)
    assert response.status_code == 422 and "不能删除" in response.json()["detail"]

    response = _put(client, "/warning-rules", {"site_id": None, **RULES}, world.director)
    assert response.status_code == 200 and response.json()["site"] is None
    response = _put(client, "/warning-rules", {"site_id": world.site.id, **RULES, "blue_minutes": 10}, world.manager)
    assert response.status_code == 200
    site_rules = response.json()
    assert rules_for(world.site.id).blue_minutes == 10
    rows = _get(client, "/warning-rules", world.manager).json()
    assert [r["blue_minutes"] for r in rows] == [30, 10]
    assert len(_get(client, "/warning-rules", world.manager, site=world.other_site.id).json()) == 1
    assert _delete(client, f"/warning-rules/{site_rules['id']}", world.manager).status_code == 204
    assert rules_for(world.site.id).blue_minutes == 30


def test_api_list_query_count_does_not_grow(world, client, django_assert_max_num_queries):
    for site in (world.site, world.other_site, make_site(), make_site()):
        for urgency in ("low", "normal", "high"):
            save_policy(world.director, site=site, urgency=urgency)
    headers = api_auth(world.director)
    with django_assert_max_num_queries(5):
        assert len(client.get(f"{API}/sla-policies", **headers).json()) == 12


def test_api_permissions(world, client):
    assert _put(client, "/sla-policies", policy_body(), world.manager).status_code == 403
    assert _put(client, "/sla-policies", policy_body(world.other_site), world.manager).status_code == 403
    other_manager = make_staff(Role.MANAGER, sites=[world.other_site])
    assert _put(client, "/sla-policies", policy_body(world.site), other_manager).status_code == 403
    for persona in ("supervisor", "agent", "tech"):
        staff = getattr(world, persona)
        assert _put(client, "/sla-policies", policy_body(world.site), staff).status_code == 403
        assert _put(client, "/warning-rules", {"site_id": world.site.id, **RULES}, staff).status_code == 403
    # An agent is refused even a site that does not exist: the refusal comes first.
    assert _put(client, "/sla-policies", policy_body(site_id=424242), world.agent).status_code == 403
    for persona in ("agent", "outsider_agent", "tech"):
        assert _get(client, "/sla-policies", getattr(world, persona)).status_code == 403
        assert _get(client, "/warning-rules", getattr(world, persona)).status_code == 403
    override = save_policy(world.director, site=world.site)
    rules = save_rules(world.director, site=world.site)
    assert _delete(client, f"/sla-policies/{override.id}", other_manager).status_code == 404  # not in scope
    assert _delete(client, f"/sla-policies/{override.id}", world.supervisor).status_code == 403
    assert _delete(client, f"/warning-rules/{rules.id}", world.supervisor).status_code == 403
    assert SlaPolicy.objects.filter(pk=override.pk).exists() and WarningRules.objects.filter(pk=rules.pk).exists()
    assert client.get(f"{API}/sla-policies").status_code == 401


def test_api_validation_errors_name_the_fields(world, client):
    response = _put(client, "/sla-policies", policy_body(kind="inquiry", respond_minutes=0), world.director)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"respond_minutes", "arrive_minutes"}
    response = _put(client, "/sla-policies", policy_body(site_id=424242), world.director)
    assert response.status_code == 422 and response.json()["errors"] == {"site_id": ["项目不存在"]}
    response = _put(client, "/sla-policies", policy_body(kind="nonsense"), world.director)
    assert response.status_code == 422 and "kind" in response.json()["errors"]
    body = policy_body()
    del body["site_id"]  # the company row is never changed by leaving the site out
    assert _put(client, "/sla-policies", body, world.director).status_code == 422
    response = _put(client, "/warning-rules", {"site_id": None, **RULES, "prewarn_percent": 100}, world.director)
    assert response.status_code == 422 and "prewarn_percent" in response.json()["errors"]
    for value in ("abc", -1, 10**30, 1.5, "\x00", None, [], {}):
        response = _put(client, "/sla-policies", policy_body(resolve_minutes=value), world.director)
        assert response.status_code == 422, (value, response.content)
    assert not SlaPolicy.objects.exists() and not WarningRules.objects.exists()
