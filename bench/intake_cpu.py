"""CPU of one ticket creation through the API, in process: the requests of api_create.py's
desks sent through Django's test client, one after the other, with no server, no other
clients and no network between them. It gives the CPU of Kefu's process and of the
PostgreSQL backend per creation, which change far less from run to run on a shared machine
than a throughput does, so that two versions of the code can be compared (run it from a
``git worktree`` of each, alternately). Every ticket it makes is deleted again.

    DATABASE_URL=… .venv/bin/python bench/intake_cpu.py --anchor 2026-12-02 [--count 600]
"""

from __future__ import annotations

import json
import os
import sys
import time

from common import parser, setup_django

setup_django()

import api_create  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from kefu.org.models import ApiToken, Staff  # noqa: E402
from kefu.org.services import api_token_issue, token_digest  # noqa: E402
from kefu.tickets.models import Ticket  # noqa: E402

WARM_UP = 60
COUNTED = 40


def backend_cpu_seconds() -> float:
    """CPU the connection's PostgreSQL backend has used so far (0 on SQLite: it is this process)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--count", type=int, default=600, help="creations measured")
    args = args_parser.parse_args()
    if args.count < 1:
        args_parser.error("--count: at least 1")
    count = 20 if args.smoke else args.count
    team = api_create.desks(4)
    staff = {
        s.user.username: s
        for s in Staff.objects.select_related("user").filter(user__username__in=[d.username for d in team])
    }
    tokens = [api_token_issue(staff=staff[d.username])[0] for d in team]
    headers = [{"HTTP_AUTHORIZATION": f"Bearer {token}"} for token in tokens]
    since = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client = Client(HTTP_HOST="127.0.0.1")

    def create(index: int) -> None:
        desk = team[index % len(team)]
        body = json.dumps(desk.payload(), ensure_ascii=False)
        answer = client.post("/api/v1/tickets", body, content_type="application/json", **headers[index % len(team)])
        if answer.status_code != 201:
            raise SystemExit(f"creation failed with {answer.status_code}: {answer.content[:300]!r}")

    try:
        for index in range(WARM_UP):
            create(index)
        with CaptureQueriesContext(connection) as queries:
            for index in range(COUNTED):
                create(index)
        per_creation = len(queries) / COUNTED
        started = (time.process_time(), backend_cpu_seconds(), time.perf_counter())
        for index in range(count):
            create(index)
        ended = (time.process_time(), backend_cpu_seconds(), time.perf_counter())
        own, backend, wall = ((end - start) * 1000 / count for start, end in zip(started, ended, strict=True))
        print(
            f"{count} creations: Kefu's process {own:.2f} ms CPU, database backend {backend:.2f} ms CPU, "
            f"{wall:.2f} ms wall a creation; {per_creation:.2f} queries"
        )
    finally:
        api_create.delete_tickets(api_create.new_ticket_ids([s.id for s in staff.values()], since))
        ApiToken.objects.filter(digest__in=[token_digest(token) for token in tokens]).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
