"""The Excel export of the ticket list at scale: ``--rows`` (100,000) tickets through the real
export view, streamed, with the memory it takes.

    DATABASE_URL=… .venv/bin/python bench/export.py [--rows 100000] [--anchor 2026-12-02] [--smoke]

The reader is a director (every site). The period is the shortest run of days ending the day
before the anchor that holds at least ``--rows`` tickets, asked for as the list's own date
filter (``?date_from=…&date_to=…``, newest first, as the list shows it). The request goes
through Django's test ``Client`` in this process (routing, middleware, session, the view);
the streamed response is consumed chunk by chunk into a temporary file on disk, as a browser
would save it. Figures: time to the first byte (the view returns and its first chunk
arrives), total time, rows, file size, and memory: the growth of the process's peak resident
set (``VmHWM`` from /proc, reset before the request) over its size before, and, in a second
export of the same period, the peak of Python's allocations (tracemalloc, which slows the run,
so that run is not timed) and the number of SQL queries.

Checks: 200 and an .xlsx attachment; the file opened with openpyxl (read-only) has the header
and one row per ticket of the period (a direct count of the database); the first, middle and
last rows show the number, site, status, content and time of the ticket a direct ORM query
puts at that place; the queries do not grow with the rows. Nothing is written (signed-cookie
sessions, no ``last_login``).
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from common import Report, parser, rss_mb, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import update_last_login  # noqa: E402
from django.contrib.auth.signals import user_logged_in  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.db.models.functions import TruncDate  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from kefu.org.models import Role, Staff  # noqa: E402
from kefu.tickets.models import Ticket  # noqa: E402

GROWTH_TARGET_MB = 100.0
SMOKE_ROWS = 2_000


@dataclass
class Export:
    status: int
    content_type: str
    disposition: str
    first_byte: float
    total: float
    size: int
    path: str
    streamed: bool


def peak_rss_reset() -> bool:
    """Reset this process's peak resident set (``VmHWM``) to its current size (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def period_for(rows: int, anchor: date) -> tuple[date, date, int]:
    """The shortest run of days ending the day before ``anchor`` with at least ``rows``
    tickets (or every day there is): (first day, last day, tickets)."""
    last = anchor - timedelta(days=1)
    since = timezone.make_aware(datetime.combine(anchor - timedelta(days=400), datetime.min.time()))
    per_day = dict(
        Ticket.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    earliest = min(per_day, default=last)
    total, day = 0, last
    while True:
        total += per_day.get(day, 0)
        if total >= rows or day <= earliest:
            break
        day -= timedelta(days=1)
    return day, last, total


def export(client: Client, url: str) -> Export:
    """GET ``url`` and save the body chunk by chunk into a temporary file."""
    started = time.perf_counter()
    response: Any = client.get(url)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    size = 0
    first_byte = None
    streamed = bool(getattr(response, "streaming", False))
    with os.fdopen(fd, "wb") as out:
        chunks = response.streaming_content if streamed else [response.content]
        for chunk in chunks:
            if first_byte is None:
                first_byte = time.perf_counter() - started
            out.write(chunk)
            size += len(chunk)
    response.close()
    total = time.perf_counter() - started
    return Export(
        response.status_code,
        response.get("Content-Type", ""),
        response.get("Content-Disposition", ""),
        first_byte if first_byte is not None else total,
        total,
        size,
        path,
        streamed,
    )


def check_file(report: Report, path: str, expected: list[Ticket], total: int) -> int:
    """The workbook's rows against the database: the count, and the first, middle and last
    rows against the tickets a direct query puts there."""
    book = load_workbook(path, read_only=True)
    sheet = book.active
    assert sheet is not None
    header: tuple[Any, ...] = ()
    count = 0
    wanted = {0: expected[0], total // 2: expected[1], total - 1: expected[2]}
    seen: dict[int, tuple[Any, ...]] = {}
    for index, values in enumerate(sheet.iter_rows(values_only=True)):
        if index == 0:
            header = values
            continue
        if index - 1 in wanted:
            seen[index - 1] = values
        count += 1
    book.close()
    report.check(len(header) == 16 and header[0] == "工单号", f"header of 16 columns ({header[:3]}…)")
    report.check(count == total, f"the file holds {count:,} rows, the database {total:,} tickets for the period")
    for place, ticket in wanted.items():
        row = seen.get(place, ())
        local = timezone.localtime(ticket.created_at).strftime("%Y-%m-%d %H:%M")
        ok = bool(row) and (
            row[0] == ticket.number
            and row[1] == ticket.site.name
            and row[6] == ticket.get_status_display()
            and row[9] == ticket.content[:500]
            and row[13] == local
        )
        report.check(ok, f"row {place + 1:,}: {ticket.number} ({ticket.site.name}, {local}) as in the database")
    return count


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--rows", type=int, default=100_000, help="at least this many tickets in the export")
    args = args_parser.parse_args()
    rows = min(args.rows, SMOKE_ROWS) if args.smoke else args.rows
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    user_logged_in.disconnect(update_last_login)

    director = (
        Staff.objects.filter(role=Role.DIRECTOR, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    assert director is not None, "no director: run kefu bench-seed first"
    first, last, _found = period_for(rows, args.anchor)
    period = Ticket.objects.filter(created_at__date__gte=first, created_at__date__lte=last)
    total = period.count()
    newest_first = period.select_related("site").order_by("-created_at", "-id")
    expected = [newest_first[0], newest_first[total // 2], newest_first[total - 1]] if total else []
    url = f"/tickets/export/?date_from={first}&date_to={last}"
    client = Client()
    client.force_login(director.user)

    report = Report(
        f"ticket export, {director.name} (director), {first} – {last}: {total:,} tickets; {url}", smoke=args.smoke
    )
    # Warm up (URLs, templates, the first query of each kind) on an export of nothing.
    b"".join(client.get("/tickets/export/?site=0").streaming_content)
    # The first export: timed, peak RSS.
    before = rss_mb()
    peak_ok = peak_rss_reset()
    used = time.process_time()
    done = export(client, url)
    cpu = time.process_time() - used
    growth = peak_rss_mb() - before
    report.check(done.status == 200, f"status {done.status}")
    report.check(
        done.content_type.startswith("application/vnd.openxmlformats") and "attachment" in done.disposition,
        f"an .xlsx attachment ({done.content_type}; {done.disposition[:60]})",
    )
    rows_out = check_file(report, done.path, expected, total) if done.status == 200 and total else 0
    os.unlink(done.path)
    report.row("streamed", "yes (a streaming response)" if done.streamed else "no (one HttpResponse body)")
    report.row("time to first byte", f"{done.first_byte:.2f} s")
    report.row("total time", f"{done.total:.2f} s ({rows_out / done.total:,.0f} rows/s; CPU {cpu:.2f} s)")
    report.row("rows", f"{rows_out:,} in the file ({total:,} tickets in the period)")
    report.row("file", f"{done.size / 1e6:.1f} MB")
    report.row(
        "peak RSS growth",
        f"{growth:.1f} MB (from {before:.0f} MB){'' if peak_ok else ' (peak not reset: growth over the run so far)'}",
        target=f"< {GROWTH_TARGET_MB:g} MB",
        met=growth < GROWTH_TARGET_MB,
    )

    # The second export: tracemalloc peak and the queries, not timed.
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        again = export(client, url)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    os.unlink(again.path)
    report.row(
        "tracemalloc peak", f"{peak / 2**20:.1f} MB", target=f"< {GROWTH_TARGET_MB:g} MB", met=peak < 2**20 * 100
    )
    count = len(queries.captured_queries)
    report.row("SQL queries", f"{count} for {total:,} rows")
    report.check(count <= 25, f"no per-row queries ({count} for {total:,} rows)")
    report.check(again.size == done.size or abs(again.size - done.size) < 1024, "the second export is the same size")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
