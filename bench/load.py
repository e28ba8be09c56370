"""Mixed load: 50 agents working the web UI for 10 minutes against a real ``kefu serve``.

    DATABASE_URL=… .venv/bin/python bench/load.py [--users 50] [--minutes 10] [--anchor 2026-12-02]

The script writes a plan from the data (for each agent: the seeded ``bench_`` agents and
supervisors, their site's tickets, open tickets, customers with phone and room, categories;
for all: words to search, contents of real tickets for new ones, notes), starts ``kefu serve``
(gunicorn) and ``kefu worker`` on the same database, and runs ``bench/locustfile.py`` with
locust, headless, each agent doing one action every 1–5 s (the mix is in the locustfile:
pages, lists, searches, lookups, new tickets, notes). While it runs it reads the resident
memory of every web process and of the worker once a second.

Targets: p95 ≤ 300 ms over all requests, no errors, web process RSS ≤ 150 MB, worker ≤ 150 MB.
Times are locust's: the client's, on the same two cores as the server (locust itself takes
a share of them).

The run works on a copy of the database (a file copy on SQLite; ``CREATE DATABASE … TEMPLATE``
on PostgreSQL, which needs no other connection to the benchmark database while it copies),
dropped afterwards: the worker's sweeps and the agents' new tickets and notes change the data,
and the other benchmarks need it as the seed left it. The worker's first sweep catches up on
the hours since the seed's sweep stopped (two hours before the anchor), as a worker does
that comes back after a stop.
"""

from __future__ import annotations

import csv
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
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import ROOT, Report, parser, rss_mb, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from kefu.customers.models import Customer, CustomerPhone, CustomerUnit  # noqa: E402
from kefu.demo import texts  # noqa: E402
from kefu.demo.bench.people import USERNAME_PREFIX  # noqa: E402
from kefu.org.models import Role, Staff  # noqa: E402
from kefu.tickets.lifecycle import IN_HAND  # noqa: E402
from kefu.tickets.models import Category, Ticket  # noqa: E402

PASSWORD = "kefu12345"
# locust in its own virtualenv (``make bench-install``): its gevent must stay out of the processes measured.
LOCUST = Path(os.environ.get("KEFU_LOCUST", ROOT / ".venv-bench" / "bin" / "locust"))
# Words an agent types into the search box: things callers report, and the odd rare one.
WORDS = (
    "漏水",
    "水龙头",
    "电梯",
    "噪音",
    "停车",
    "门禁",
    "物业费",
    "空调",
    "下水道",
    "保洁",
    "垃圾",
    "路灯",
    "维修",
    "投诉",
    "装修",
    "表扬",
)
LIST_FILTERS: list[dict[str, str]] = [
    {"status": "open"},
    {"sort": "due"},
    {"status": "open", "sort": "due"},
    {"kind": "repair"},
    {"kind": "complaint", "status": "open"},
    {"mine": "1"},
    {"overdue": "1"},
    {"urgency": "high"},
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_plan(users: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    staff = list(
        Staff.objects.filter(
            user__username__startswith=USERNAME_PREFIX, role__in=[Role.AGENT, Role.SUPERVISOR], user__is_active=True
        )
        .select_related("user")
        .prefetch_related("sites")
        .order_by("role", "id")[:users]
    )
    contents = list(Ticket.objects.order_by("-id").values_list("content", flat=True)[:400])
    leaves = list(Category.objects.filter(children__isnull=True, is_active=True).values_list("id", "kinds"))
    agents = []
    for member in staff:
        site = min(s.pk for s in member.sites.all())
        at_site = Ticket.objects.filter(site_id=site)
        newest = at_site.order_by("-id").values_list("id", flat=True)
        tickets = list(newest[:2000])
        open_ids = list(at_site.filter(status__in=IN_HAND).order_by("-id").values_list("id", flat=True)[:300])
        customers = []
        for customer in Customer.objects.filter(site_id=site).order_by("id")[rng.randrange(0, 200) :][:40]:
            phone = CustomerPhone.objects.filter(customer=customer).values_list("number", flat=True).first()
            link = CustomerUnit.objects.filter(customer=customer).select_related("unit").first()
            if phone:
                customers.append(
                    {
                        "id": customer.pk,
                        "name": customer.name,
                        "phone": phone,
                        "unit": link.unit_id if link else None,
                        "room": link.unit.label if link else customer.name,
                    }
                )
        categories = [
            [kind, pk] for pk, kinds in leaves for kind in (kinds or ["repair"]) if kind in ("repair", "inquiry")
        ]
        agents.append(
            {
                "username": member.user.username,
                "site": site,
                "tickets": rng.sample(tickets, min(200, len(tickets))),
                "open_tickets": open_ids or tickets[:10],
                "customers": customers,
                "categories": categories or [["inquiry", None]],
            }
        )
    return {
        "password": PASSWORD,
        "agents": agents,
        "words": list(WORDS),
        "list_filters": LIST_FILTERS,
        "contents": contents or ["业主来电反映：厨房水龙头漏水，请安排维修。"],
        "notes": list(texts.NOTES_INTERNAL),
    }


# --- a copy to work on -----------------------------------------------------------------------


def scratch_copy(work: Path) -> tuple[str, Callable[[], None]]:
    """A copy of the benchmark database for the run (the worker's sweeps and the agents' writes
    change rows that cannot be put back one by one), and how to drop it: a file copy on
    SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL (which needs the source database
    free of other connections while it copies)."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        target = work / "load.sqlite3"
        shutil.copyfile(database["NAME"], target)
        return f"sqlite:///{target}", lambda: target.unlink(missing_ok=True)
    import psycopg

    source = database["NAME"]
    name = f"{source}_load_{os.getpid()}"
    connection.close()
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]

    def admin(sql: str) -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as maintenance:
            maintenance.execute(sql.encode())

    admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return f"{server}/{name}", lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the run ----------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """The largest RSS seen of the web processes (gunicorn's workers and master) and the worker."""

    def __init__(self, web: subprocess.Popen[bytes], worker: subprocess.Popen[bytes]) -> None:
        super().__init__(daemon=True)
        self.web, self.worker = web, worker
        self.web_max = self.worker_max = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            for pid in [self.web.pid, *children(self.web.pid)]:
                self.web_max = max(self.web_max, _rss(pid))
            for pid in [self.worker.pid, *children(self.worker.pid)]:
                self.worker_max = max(self.worker_max, _rss(pid))


def _rss(pid: int) -> float:
    try:
        return rss_mb(pid)
    except OSError:
        return 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_ready(url: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--users", type=int, default=50)
    args_parser.add_argument("--minutes", type=float, default=10)
    args = args_parser.parse_args()
    users, seconds = (5, 20.0) if args.smoke else (args.users, args.minutes * 60)

    report = Report(f"mixed load: {users} agents for {seconds:.0f} s", smoke=args.smoke)
    if not report.check(LOCUST.exists(), f"locust is installed ({LOCUST}; make bench-install)"):
        return report.finish()
    plan = make_plan(users)
    if not report.check(len(plan["agents"]) == users, f"{users} agents found in the data"):
        return report.finish()
    work = Path(tempfile.mkdtemp(prefix="kefu-load-"))
    started = time.monotonic()
    copy_url, drop = scratch_copy(work)
    print(f"  working on a copy of the database ({time.monotonic() - started:.0f} s to copy)", flush=True)
    # The jieba word list of the real data directory: otherwise each run builds it first.
    cache = Path(settings.DATA_DIR) / "cache"
    if cache.is_dir():
        os.symlink(cache, work / "cache")
    plan_file = work / "plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": copy_url,
        "KEFU_DATA_DIR": str(work),  # the worker's queue too
        "KEFU_LOAD_PLAN": str(plan_file),
        "PYTHONUNBUFFERED": "1",
    }
    python = sys.executable
    web_log, worker_log = open(work / "web.log", "wb"), open(work / "worker.log", "wb")  # noqa: SIM115
    web = subprocess.Popen(
        [python, "-m", "kefu", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [python, "-m", "kefu", "worker"], cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT
    )
    sampler = Sampler(web, worker)
    try:
        if not report.check(wait_ready(f"http://127.0.0.1:{port}/login/"), "kefu serve answers"):
            web_log.flush()
            print(f"the server's log:\n{(work / 'web.log').read_text(errors='replace')[-3000:]}", file=sys.stderr)
            return report.finish()
        sampler.start()
        started = time.monotonic()
        locust = subprocess.run(
            [
                str(LOCUST),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(max(1, users // 10)),
                "--run-time",
                f"{int(seconds)}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(work / "load"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
    finally:
        sampler.stop.set()
        stop(web)
        stop(worker)
        web_log.close()
        worker_log.close()
        drop()

    rows = list(csv.DictReader(open(work / "load_stats.csv", encoding="utf-8")))  # noqa: SIM115
    total = next(row for row in rows if row["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    print(f"  {requests:,} requests in {elapsed:.0f} s ({requests / elapsed:.1f}/s); per kind (p50 / p95 / max ms):")
    for row in rows:
        if row["Name"] != "Aggregated":
            count, top = int(row["Request Count"]), float(row["Max Response Time"])
            times = f"{row['50%']:>6} / {row['95%']:>6} / {top:7.0f}"
            print(f"    {row['Name']:28} {count:7,}  {times}  failures {row['Failure Count']}")
    p95 = float(total["95%"])
    report.row("all requests, p95", f"{p95:.0f} ms (p50 {total['50%']} ms)", target="≤ 300 ms", met=p95 <= 300)
    report.row("web process RSS, largest", f"{sampler.web_max:.0f} MB", target="≤ 150 MB", met=sampler.web_max <= 150)
    report.row("worker RSS, largest", f"{sampler.worker_max:.0f} MB", target="≤ 150 MB", met=sampler.worker_max <= 150)
    report.check(requests > 0, f"requests were made ({requests:,})")
    if failures:
        for row in csv.DictReader(open(work / "load_failures.csv", encoding="utf-8")):  # noqa: SIM115
            print(f"    failure: {row['Method']} {row['Name']}: {row['Error']} × {row['Occurrences']}")
    report.check(failures == 0, f"no failed requests ({failures:,} of {requests:,})")
    if not report.check(locust.returncode in (0, 1), f"locust ran (exit code {locust.returncode})"):
        print(locust.stderr[-2000:])
    shutil.rmtree(work, ignore_errors=True)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
