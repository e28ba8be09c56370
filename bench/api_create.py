"""Ticket creation through the REST API at load: the whole service path, under a real server.

    DATABASE_URL=… .venv/bin/python bench/api_create.py [--smoke] [--anchor 2026-12-02]
        [--seconds 30] [--clients 16] [--workers N] [--threads T] [--rate R]

The script starts ``kefu serve`` (gunicorn) itself on a free port, on the database
``DATABASE_URL`` names, and stops it with SIGTERM at the end. Its task queue goes to a
temporary directory, so nothing the tickets set off is left for a worker. Each of
``--clients`` threads is one of the seeded agents (``bench_…``, password ``kefu12345``) with a
bearer token from ``POST /api/v1/auth/token`` (revoked with ``DELETE`` at the end), and one
keep-alive HTTP connection. Every request is ``POST /api/v1/tickets``: the agent's own site,
a kind, channel, category and urgency in the generator's proportions, a customer of that site
with their phone number and room, and Chinese content made from the generator's texts
(``kefu/demo/bench/words.py``); inquiries are sometimes answered at once, categories with a
dispatch rule are dispatched.

Phases (``--seconds`` each), after a short warm-up; ``--smoke`` runs 4 clients for 2 s a phase:

(a) closed loop: every client sends its next request as soon as the last is answered;
    throughput, p50/p95/max latency, errors.
(b) paced: the clients together offer the target rate (100/s on SQLite, 150/s on
    PostgreSQL), client i sending its k-th request at (k·clients + i) / rate; a late client
    sends at once. Achieved rate, p50/p95 (from the actual send), errors.
(c) raw INSERT + COMMIT: the same number of threads, each on its own driver connection
    (sqlite3 / psycopg), inserting a copy of one of the new ticket rows into a scratch table
    with the ticket table's columns (no indexes), one transaction per row; rows/s and p95.
    What the database alone can do, so the service path's own cost is known. At most 10 s:
    the rows are dropped with the table, but a SQLite file keeps the pages they took.

Also printed: the CPU time the server's processes used per ticket in phase (a), how busy the
whole machine was (other work on it lowers every figure) and the workers' memory.

Checks: no request failed, the server never said "database is locked", the number of new
tickets equals the successful answers, numbers are unique, every new ticket has its intake
event and its search document, and the server stopped with exit code 0. At the end every
ticket the script made is deleted with what hangs off it (timeline, assignments, complaint,
search document, notifications); the numbering counters stay where they got to.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect_right
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from common import ROOT, Report, Timings, parser, rss_mb, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from kefu.customers.models import CustomerPhone, CustomerUnit  # noqa: E402
from kefu.demo.bench import flows, words  # noqa: E402
from kefu.demo.bench.people import PASSWORD, USERNAME_PREFIX  # noqa: E402
from kefu.demo.bench.tickets import Leaf, leaves_from  # noqa: E402
from kefu.demo.plans import CHANNEL_WEIGHTS  # noqa: E402
from kefu.notify.models import Notification  # noqa: E402
from kefu.org.models import ApiToken, Role, Site, Staff  # noqa: E402
from kefu.org.services import token_digest  # noqa: E402
from kefu.tickets.loads import loads_recount  # noqa: E402
from kefu.tickets.models import Category, Channel, Ticket, TicketEvent, TicketSearch, Urgency  # noqa: E402

TARGET_RATE = {"sqlite": 100.0, "postgresql": 150.0}
TARGET_P95 = 0.150
SCRATCH_TABLE = "bench_api_create_scratch"
CUSTOMERS_PER_SITE = 400
HOST = "127.0.0.1"


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``kefu serve`` in a child process; ``stop`` sends SIGTERM and records how it ended."""

    workers: int | None
    threads: int | None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    queue_dir: str = ""
    log_path: str = ""
    exit_code: int | None = None
    stop_seconds: float = 0.0

    def start(self) -> None:
        self.queue_dir = tempfile.mkdtemp(prefix="kefu-bench-serve-")
        self.log_path = os.path.join(self.queue_dir, "serve.log")
        env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "KEFU_DATA_DIR": self.queue_dir}
        # The jieba cache of the real data directory spares each worker half a second.
        cache = Path(settings.DATA_DIR) / "cache"
        if cache.is_dir():
            os.symlink(cache, os.path.join(self.queue_dir, "cache"))
        command = [sys.executable, "-m", "kefu", "serve", "--host", HOST, "--port", str(self.port)]
        if self.workers:
            command += ["--workers", str(self.workers)]
        if self.threads:
            command += ["--threads", str(self.threads)]
        with open(self.log_path, "wb") as log:
            # Its own session: a Ctrl+C on the script reaches the server only through stop().
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kefu serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                status, _body, _seconds = request(HOST, self.port, "GET", "/api/v1/", None, {})
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"kefu serve did not answer within 60 s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [*self.worker_pids(), *([self.process.pid] if self.process else [])]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.exit_code = None if self.process is None else self.process.returncode
            return
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.exit_code = self.process.wait()
        self.stop_seconds = time.perf_counter() - started

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def clean(self) -> None:
        shutil.rmtree(self.queue_dir, ignore_errors=True)


def database_cpu_seconds() -> float:
    """CPU time (user + system) every PostgreSQL process on this machine has used so far
    (the backends serving the server, and the writers behind them); 0 elsewhere."""
    if connection.vendor != "postgresql":
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        if name == "postgres":
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def client_cpu_seconds() -> float:
    """CPU time of this process (the client threads and whatever else it does meanwhile)."""
    times = os.times()
    return times.user + times.system


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return float(sum(values) - idle), float(sum(values))


def request(
    host: str, port: int, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> tuple[int, Any, float]:
    """One request on a fresh connection (set-up and tear-down only)."""
    link = http.client.HTTPConnection(host, port, timeout=60)
    try:
        return exchange(link, method, path, body, headers)
    finally:
        link.close()


def exchange(
    link: http.client.HTTPConnection, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> tuple[int, Any, float]:
    payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    sent = {"Content-Type": "application/json", **headers} if payload is not None else headers
    started = time.perf_counter()
    link.request(method, path, body=payload, headers=sent)
    response = link.getresponse()
    raw = response.read()
    seconds = time.perf_counter() - started
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = raw[:200]
    return response.status, answer, seconds


# --- what the agents take -------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    customer_id: int
    name: str
    phone: str
    unit_id: int | None
    unit: str
    building: str
    floor: int


@dataclass
class Desk:
    """An agent at a site: what they are asked, drawn as the generator draws it."""

    username: str
    site_id: int
    site_kind: str
    callers: list[Caller]
    leaves: list[Leaf]
    rng: random.Random
    token: str = ""

    def payload(self) -> dict[str, Any]:
        rng = self.rng
        kind = pick(rng, flows.KIND_MIX)
        caller = rng.choice(self.callers)
        found = [leaf for leaf in self.leaves if kind in leaf.kinds and leaf.templates[self.site_kind]]
        leaf = rng.choices(found, weights=[leaf.weight[self.site_kind] for leaf in found])[0]
        channel = pick(rng, CHANNEL_WEIGHTS[kind])
        if channel == Channel.PATROL:
            channel = Channel.PHONE  # a patrol reports no customer; these calls all have one
        template = rng.choice(leaf.templates[self.site_kind])
        body = words.fill(
            rng,
            template,
            office=self.site_kind == Site.Kind.OFFICE,
            unit=caller.unit,
            building=caller.building,
            floor=caller.floor,
            staff="李师傅",
            patrol=False,
        )
        content = words.dress(rng, body, channel=channel, who=caller.name, name=caller.name, phone=caller.phone)
        if template.urgent:
            urgency = rng.choice((Urgency.HIGH, Urgency.CRITICAL))
        else:
            urgency = Urgency.NORMAL if rng.random() < 0.2 else Urgency.LOW
        payload: dict[str, Any] = {
            "site_id": self.site_id,
            "kind": kind,
            "channel": channel,
            "content": content,
            "urgency": urgency,
            "category_id": leaf.id,
            "customer_id": caller.customer_id,
            "contact_phone": caller.phone,
        }
        if caller.unit_id is not None:
            payload["unit_id"] = caller.unit_id
        if kind == "inquiry" and leaf.answers and rng.random() < 0.6:
            payload["answer"] = rng.choice(leaf.answers)
        return payload


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    cumulative = list(accumulate(weights.values()))
    return str(names[bisect_right(cumulative, rng.random() * cumulative[-1])])


def desks(count: int) -> list[Desk]:
    """``count`` agents of the seeded staff, spread over the sites, each with callers of
    their site (customers with a phone number, and their room where they have one)."""
    agents = list(
        Staff.objects.filter(role=Role.AGENT, is_active=True, user__username__startswith=USERNAME_PREFIX)
        .select_related("user")
        .prefetch_related("sites")
        .order_by("user__username")
    )
    by_site: dict[int, list[tuple[Staff, Site]]] = {}
    for agent in agents:
        for site in agent.sites.all():
            by_site.setdefault(site.id, []).append((agent, site))
    chosen: list[tuple[Staff, Site]] = []
    used: set[int] = set()
    while len(chosen) < count and any(by_site.values()):
        for site_id in sorted(by_site):
            queue = by_site[site_id]
            while queue and queue[0][0].pk in used:
                queue.pop(0)
            if queue and len(chosen) < count:
                agent, site = queue.pop(0)
                used.add(agent.pk)
                chosen.append((agent, site))
    if len(chosen) < count:
        raise SystemExit(f"need {count} seeded agents (bench_…), found {len(chosen)}: run kefu bench-seed first")
    leaves = leaves_from(list(Category.objects.select_related("parent", "department").order_by("id")))
    callers = {site.id: callers_of(site) for _agent, site in chosen}
    return [
        Desk(agent.user.username, site.id, site.kind, callers[site.id], leaves, random.Random(20261202 + number))
        for number, (agent, site) in enumerate(chosen)
    ]


def callers_of(site: Site) -> list[Caller]:
    phones = list(
        CustomerPhone.objects.filter(customer__site=site, customer__is_active=True, is_primary=True)
        .order_by("customer_id")
        .values_list("customer_id", "customer__name", "number")[:CUSTOMERS_PER_SITE]
    )
    rooms: dict[int, tuple[int, str, str, int]] = {}
    for link in CustomerUnit.objects.filter(customer_id__in=[p[0] for p in phones]).select_related("unit"):
        unit = link.unit
        digits = "".join(ch for ch in unit.room if ch.isdigit())
        rooms.setdefault(link.customer_id, (unit.id, unit.label, unit.building, int(digits[:-2] or 1)))
    found = []
    for customer_id, name, number in phones:
        unit_id, label, building, floor = rooms.get(customer_id, (None, "", "1", 1))
        found.append(Caller(customer_id, name, number, unit_id, label, building, floor))
    if not found:
        raise SystemExit(f"site {site.code} has no customers with a phone number: run kefu bench-seed first")
    return found


# --- the load -------------------------------------------------------------------------------


@dataclass
class Phase:
    timings: Timings = field(default_factory=Timings)
    errors: list[str] = field(default_factory=list)
    created: list[tuple[int, int, str]] = field(default_factory=list)  # id, site, number
    seconds: float = 0.0
    late: int = 0
    server_cpu: float = 0.0  # CPU seconds the server used in the phase
    database_cpu: float = 0.0  # ... PostgreSQL's processes (0 on SQLite: inside the server)
    client_cpu: float = 0.0  # ... this script's client threads
    machine_busy: float = 0.0  # share of the machine's CPU time in use (every process)

    @property
    def rate(self) -> float:
        return len(self.timings.samples) / self.seconds if self.seconds else 0.0


def load(port: int, team: list[Desk], seconds: float, rate: float | None) -> Phase:
    """Every desk in its own thread on one keep-alive connection, for ``seconds``: as fast
    as answers come back (``rate`` None), or at its share of ``rate`` requests a second."""
    found = Phase()
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    stop = start + seconds

    def client(index: int, desk: Desk) -> None:
        link = http.client.HTTPConnection(HOST, port, timeout=60)
        headers = {"Authorization": f"Bearer {desk.token}"}
        laps: list[float] = []
        created: list[tuple[int, int, str]] = []
        errors: list[str] = []
        late = 0
        step = 0
        while True:
            now = time.perf_counter()
            due = start + (step * len(team) + index) / rate if rate else max(start, now)
            if due >= stop or now >= stop:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif rate and wait < -0.01:
                late += 1
            step += 1
            payload = desk.payload()
            try:
                status, answer, lap = exchange(link, "POST", "/api/v1/tickets", payload, headers)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                link.close()
                link = http.client.HTTPConnection(HOST, port, timeout=60)
                continue
            if status == 201 and isinstance(answer, dict):
                laps.append(lap)
                created.append((int(answer["id"]), int(answer["site"]["id"]), str(answer["number"])))
            else:
                errors.append(f"{status}: {str(answer)[:200]}")
        link.close()
        with lock:
            found.timings.samples.extend(laps)
            found.created.extend(created)
            found.errors.extend(errors)
            found.late += late

    threads = [threading.Thread(target=client, args=(i, desk), daemon=True) for i, desk in enumerate(team)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found.seconds = max(time.perf_counter(), stop) - start
    return found


# --- the database alone ---------------------------------------------------------------------


def raw_connect() -> Any:
    """A connection of the driver itself, set up as Kefu's (WAL, IMMEDIATE on SQLite)."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        import sqlite3

        link = sqlite3.connect(db["NAME"], timeout=20, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=20000"):
            link.execute(f"PRAGMA {pragma}")
        return link
    import psycopg

    return psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or None
    )


@contextmanager
def scratch_table(sample_ids: list[int]) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    """A table with the ticket table's columns (no keys, no indexes), and some ticket rows to
    copy into it; dropped afterwards."""
    table = Ticket._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        cursor.execute(f"CREATE TABLE {SCRATCH_TABLE} AS SELECT * FROM {table} WHERE 1 = 0")
        marks = ", ".join(["%s"] * len(sample_ids))
        cursor.execute(f"SELECT * FROM {table} WHERE id IN ({marks})", sample_ids)
        columns = [column[0] for column in cursor.description]
        rows = [tuple(_param(value) for value in row) for row in cursor.fetchall()]
    try:
        yield columns, rows
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")


def _param(value: Any) -> Any:
    """A value read back, as the driver takes it again (psycopg wants JSON wrapped)."""
    if connection.vendor == "postgresql" and isinstance(value, dict | list):
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return value


def raw_inserts(threads: int, seconds: float, columns: list[str], rows: list[tuple[Any, ...]]) -> Phase:
    """``threads`` threads, each INSERT + COMMIT of one ticket-sized row at a time."""
    found = Phase()
    lock = threading.Lock()
    sqlite = connection.vendor == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = f"INSERT INTO {SCRATCH_TABLE} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    id_at = columns.index("id")
    number_at = columns.index("number")
    start = time.perf_counter() + 0.2
    stop = start + seconds

    def writer(index: int) -> None:
        link = raw_connect()
        laps: list[float] = []
        errors: list[str] = []
        step = 0
        while time.perf_counter() < stop:
            row = list(rows[(index + step) % len(rows)])
            row[id_at] = index * 10_000_000 + step
            row[number_at] = f"RAW-{index}-{step}"
            step += 1
            started = time.perf_counter()
            try:
                if sqlite:
                    link.execute("BEGIN IMMEDIATE")
                    link.execute(sql, row)
                    link.execute("COMMIT")
                else:
                    with link.cursor() as cursor:
                        cursor.execute(sql, row)
                    link.commit()
            except Exception as exc:  # a failed write is counted, never hidden
                errors.append(f"{type(exc).__name__}: {exc}")
                link.rollback()
                continue
            laps.append(time.perf_counter() - started)
        link.close()
        with lock:
            found.timings.samples.extend(laps)
            found.errors.extend(errors)

    pool = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(threads)]
    while time.perf_counter() < start:
        time.sleep(0.01)
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    found.seconds = time.perf_counter() - start
    return found


# --- tokens, checks and the clean-up --------------------------------------------------------


def issue_tokens(port: int, team: list[Desk]) -> None:
    """A token per desk from ``POST /auth/token``, side by side (each login hashes the
    password, about half a second here)."""

    def login(desk: Desk) -> None:
        status, answer, _seconds = request(
            HOST, port, "POST", "/api/v1/auth/token", {"username": desk.username, "password": PASSWORD}, {}
        )
        if status != 201:
            raise SystemExit(f"no token for {desk.username}: {status} {answer}")
        desk.token = answer["token"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(login, team))


def revoke_tokens(port: int, team: list[Desk]) -> int:
    revoked = 0
    for desk in team:
        if desk.token:
            try:
                status, _answer, _seconds = request(
                    HOST, port, "DELETE", "/api/v1/auth/token", None, {"Authorization": f"Bearer {desk.token}"}
                )
                revoked += status == 204
            except OSError:
                pass
    # Whatever the server could not revoke (it stopped early) goes here.
    ApiToken.objects.filter(digest__in=[token_digest(d.token) for d in team if d.token]).delete()
    return revoked


def delete_tickets(ids: list[int]) -> int:
    """The tickets and every row hanging off them (the ORM's cascade), and their notifications."""
    deleted = 0
    for offset in range(0, len(ids), 500):
        chunk = ids[offset : offset + 500]
        Notification.objects.filter(ref__in=[f"ticket:{pk}" for pk in chunk]).delete()
        count, _by_model = Ticket.objects.filter(pk__in=chunk).delete()
        deleted += count
    if deleted:
        loads_recount()  # the handlers' tickets in hand, without the deleted ones
    return deleted


def new_ticket_ids(agent_ids: list[int], since_id: int) -> list[int]:
    return list(Ticket.objects.filter(pk__gt=since_id, first_responder_id__in=agent_ids).values_list("pk", flat=True))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    args_parser.add_argument("--clients", type=int, default=16)
    args_parser.add_argument("--workers", type=int, default=None, help="kefu serve --workers (default: its own)")
    args_parser.add_argument("--threads", type=int, default=None, help="kefu serve --threads (default: its own)")
    args_parser.add_argument("--rate", type=float, default=None, help="offered rate of phase (b)")
    args = args_parser.parse_args()
    # --smoke proves the script works: fewer clients (each login hashes a password) and phases.
    seconds = 2.0 if args.smoke else args.seconds
    clients = min(args.clients, 4) if args.smoke else args.clients
    vendor = connection.vendor
    rate = args.rate or TARGET_RATE.get(vendor, 100.0)

    report = Report(f"ticket creation through the API, {clients} clients, {seconds:g} s a phase", smoke=args.smoke)
    team = desks(clients)
    agent_ids = list(Staff.objects.filter(user__username__in=[d.username for d in team]).values_list("pk", flat=True))
    since_id = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    server = Server(args.workers, args.threads)
    phases: dict[str, Phase] = {}
    warm = Phase()
    raw: Phase | None = None
    rss = 0.0
    try:
        server.start()
        issue_tokens(server.port, team)
        # Warm-up: every worker loads its word list and opens its connections before the clock runs.
        warm = load(server.port, team, 1.0 if args.smoke else 3.0, None)
        for name, offered in (("closed", None), ("paced", rate)):
            cpu, (busy, total) = server.cpu_seconds(), cpu_times()
            database, client = database_cpu_seconds(), client_cpu_seconds()
            phases[name] = load(server.port, team, seconds, offered)
            phases[name].server_cpu = server.cpu_seconds() - cpu
            phases[name].database_cpu = database_cpu_seconds() - database
            phases[name].client_cpu = client_cpu_seconds() - client
            busy_after, total_after = cpu_times()
            phases[name].machine_busy = (busy_after - busy) / max(1.0, total_after - total)
        rss = sum(rss_mb(pid) for pid in server.worker_pids())
        revoke_tokens(server.port, team)
    except BaseException:
        server.stop()
        print(f"the server's log:\n{server.log()[-3000:]}", file=sys.stderr)
        # Whatever was made before the failure goes again.
        delete_tickets(new_ticket_ids(agent_ids, since_id))
        server.clean()
        raise
    finally:
        server.stop()
        if any(desk.token for desk in team):
            ApiToken.objects.filter(digest__in=[token_digest(d.token) for d in team if d.token]).delete()

    successes = [*warm.created, *(row for phase in phases.values() for row in phase.created)]
    ids = [row[0] for row in successes]
    found_ids = new_ticket_ids(agent_ids, since_id)
    try:
        if ids:
            with scratch_table(ids[:200]) as (columns, rows):
                raw = raw_inserts(clients, min(seconds, 10.0), columns, rows)

        settings_line = server.log().splitlines()[:1]
        report.row("server", settings_line[0] if settings_line else "?")
        closed, paced = phases["closed"], phases["paced"]
        report.row(
            "(a) closed loop: throughput",
            f"{closed.rate:.1f} tickets/s ({len(closed.timings.samples)} in {closed.seconds:.1f} s)",
            target=f"≥ {rate:g}/s",
            met=closed.rate >= rate,
        )
        report.row(
            "(a) closed loop: latency",
            closed.timings.summary_ms(),
            target=f"p95 ≤ {ms(TARGET_P95)}",
            met=closed.timings.p95 <= TARGET_P95,
        )
        report.row(
            f"(b) paced at {rate:g}/s: achieved rate",
            f"{paced.rate:.1f} tickets/s ({paced.late} sent late)",
            target=f"≥ {rate * 0.98:g}/s",
            met=paced.rate >= rate * 0.98,
        )
        report.row(
            f"(b) paced at {rate:g}/s: latency",
            paced.timings.summary_ms(),
            target=f"p95 ≤ {ms(TARGET_P95)}",
            met=paced.timings.p95 <= TARGET_P95,
        )
        if raw is not None:
            report.row(
                f"(c) raw INSERT+COMMIT, {clients} threads",
                f"{raw.rate:,.0f} rows/s, {raw.timings.summary_ms()}, errors {len(raw.errors)}",
            )
            if closed.rate:
                report.row(
                    "service path vs raw insert",
                    f"{raw.rate / closed.rate:.0f}× fewer per second; "
                    f"+{(closed.timings.p50 - raw.timings.p50) * 1000:.1f} ms at p50",
                )
        done = len(closed.timings.samples) + len(closed.errors)
        if done:
            report.row(
                "server CPU per ticket (closed loop)",
                f"{closed.server_cpu / done * 1000:.1f} ms; machine CPU busy {closed.machine_busy:.0%} "
                f"(paced: {paced.machine_busy:.0%}, load average {os.getloadavg()[0]:.1f})",
            )
            report.row(
                "CPU per ticket by process (closed loop)",
                f"server {closed.server_cpu / done * 1000:.1f} ms, "
                f"PostgreSQL {closed.database_cpu / done * 1000:.1f} ms, "
                f"client {closed.client_cpu / done * 1000:.1f} ms",
            )
        report.row("server workers' memory", f"{rss:.0f} MB RSS in all")

        errors = [*warm.errors, *(e for phase in phases.values() for e in phase.errors)]
        report.check(not errors, f"no failed request ({len(errors)} failed{': ' + errors[0] if errors else ''})")
        log = server.log()
        report.check("database is locked" not in log, "the server never said 'database is locked'")
        report.check("Traceback" not in log, "no traceback in the server's log")
        report.check(
            server.exit_code == 0 and server.stop_seconds < 30,
            f"the server stopped on SIGTERM with exit code 0 ({server.exit_code}, {server.stop_seconds:.1f} s)",
        )
        report.check(
            sorted(found_ids) == sorted(ids),
            f"new tickets in the database = successful answers ({len(found_ids)} = {len(ids)})",
        )
        numbers = {(site, number) for _id, site, number in successes}
        duplicated = (
            Ticket.objects.filter(number__in=[n for _site, n in numbers])
            .values("site_id", "number")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        report.check(
            len(numbers) == len(successes) and duplicated == 0,
            f"ticket numbers unique ({len(numbers)} distinct of {len(successes)}, {duplicated} duplicated)",
        )
        intake = TicketEvent.objects.filter(ticket_id__in=found_ids, type="created").values("ticket_id").distinct()
        report.check(intake.count() == len(found_ids), "every new ticket has its intake event")
        documents = TicketSearch.objects.filter(ticket_id__in=found_ids).count()
        report.check(documents == len(found_ids), f"every new ticket has its search document ({documents})")
        if raw is not None:
            report.check(not raw.errors, f"raw inserts without error ({raw.errors[:1]})")
    finally:
        deleted = delete_tickets(sorted(set(found_ids) | set(ids)))
        server.clean()
    left = Ticket.objects.filter(pk__in=found_ids).count()
    report.check(left == 0, f"every ticket the script made is deleted again ({len(found_ids)} tickets, {deleted} rows)")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
