"""``kefu bench-seed``: the benchmark company, built in a fixed order.

1. reference data (the demo's categories, time limits …), ten sites, 200 staff, units and
   customers — a few seconds;
2. the year's tickets, one day per transaction, generated in a second thread while the main
   one writes the day before (the generator only computes; the database work stays on the
   main thread's connection);
3. the numbering counters, so that the next ticket taken through the services gets the next
   free number of its site, kind and day; this year's satisfaction survey; statistics.

The same seed and anchor give the same rows on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation

from kefu.appraisal.models import Appraisal, Period, RewardPenalty
from kefu.core.models import Counter
from kefu.core.quiet import ContactWindows
from kefu.customers.models import Customer, CustomerEvent, CustomerPhone, CustomerUnit, Unit
from kefu.org.models import Department, Site, Staff
from kefu.org.queries import calendar_for_site
from kefu.reports.models import MonthlyReport
from kefu.surveys.models import Answer, Batch, Invitation, Questionnaire, Response
from kefu.tickets.lifecycle import Kind
from kefu.tickets.loads import loads_recount
from kefu.tickets.models import (
    Assignment,
    Attachment,
    Complaint,
    ComplaintProposal,
    ConfirmLink,
    HandlerLoad,
    Handover,
    SlaPolicy,
    Ticket,
    TicketClock,
    TicketEvent,
    TicketSearch,
    Urgency,
    WarningCard,
)
from kefu.tickets.sla import default_minutes, rules_for
from kefu.visits.models import Visit, VisitAttempt, VisitCampaign, VisitRules

from .. import data
from ..builders import PhoneBook
from ..reference import seed_reference_data
from . import people, rows, survey
from .clock import DayTable, Windows
from .sink import Progress, Sink
from .tickets import Generator, leaves_from
from .tickets import Site as TicketSite

SEED = data.SEED
# From this many tickets on, indexes are dropped for the load and built again afterwards.
BULK_FROM = 20_000


class BenchError(Exception):
    """The seed cannot run; the message says why (Chinese)."""


@dataclass
class Options:
    tickets: int = 1_000_000
    customers: int | None = None  # tickets / 20
    seed: int = SEED
    anchor: date | None = None  # today
    quiet: bool = False

    @property
    def customer_count(self) -> int:
        return self.customers if self.customers is not None else max(50, self.tickets // 20)


@dataclass
class Outcome:
    rows: dict[str, int] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    anchor: datetime | None = None


# The tables ``--reset`` empties completely, leaves first: every ticket and everything that
# hangs off one, every customer and unit. (Reference data, other sites and their staff stay.)
WIPED: list[tuple[type[Any], str]] = [
    (Answer, "答题"),
    (Response, "答卷"),
    (Invitation, "调查邀请"),
    (VisitAttempt, "回访通话"),
    (Visit, "回访"),
    (WarningCard, "警告卡"),
    (Attachment, "附件"),
    (ConfirmLink, "确认链接"),
    (Handover, "首问移交"),
    (Assignment, "派单记录"),
    (TicketEvent, "工单记录"),
    (TicketSearch, "工单检索索引"),
    (ComplaintProposal, "投诉方案"),
    (Complaint, "投诉处理"),
    (TicketClock, "工单预警时钟"),
    (HandlerLoad, "在手工单计数"),
    (Ticket, "工单"),
    (CustomerEvent, "客户变更记录"),
    (CustomerPhone, "客户电话"),
    (CustomerUnit, "客户房屋"),
    (Customer.tags.through, "客户标签"),
    (Customer, "客户"),
    (Unit, "房屋"),
]


def bench_sites() -> list[Site]:
    return list(Site.objects.filter(code__in=[s.code for s in people.SITES]).order_by("id"))


def bench_staff() -> list[Staff]:
    return list(Staff.objects.filter(user__username__startswith=people.USERNAME_PREFIX).order_by("id"))


def check(reset: bool) -> list[str]:
    """Refuse a database with tickets (or an earlier benchmark company) unless ``reset``;
    with it, say what will be deleted. Returns those lines."""
    try:
        tickets = Ticket.objects.count()
        sites, staff = bench_sites(), bench_staff()
    except DatabaseError as exc:
        raise BenchError(f"数据库无法使用（{exc}）。请先运行：kefu migrate") from None
    if not reset:
        if tickets:
            raise BenchError(
                f"数据库中已有 {tickets:,} 张工单。基准数据只能在空库中生成；"
                "如确定要删除全部工单、客户和房屋后重新生成，请加 --reset"
            )
        if sites or staff:
            raise BenchError("数据库中已有基准数据的项目或员工。如需重新生成，请加 --reset")
        return []
    lines = [f"{label} {model.objects.count():,} 条" for model, label in WIPED if model.objects.exists()]
    if sites:
        lines.append(f"基准项目 {len(sites)} 个（{'、'.join(s.name for s in sites)}）及其员工 {len(staff)} 名")
    return lines


def wipe() -> None:
    """Empty the ``WIPED`` tables and remove the benchmark's sites and staff. One statement per
    table (the ORM's delete would load millions of rows first)."""
    sites, staff = bench_sites(), bench_staff()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {RewardPenalty._meta.db_table} SET card_id = NULL WHERE card_id IS NOT NULL")
        for model, _label in WIPED:
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
        cursor.execute(f"DELETE FROM {Counter._meta.db_table} WHERE key LIKE %s", ["ticket:%"])
        try:
            MonthlyReport.objects.filter(site__in=sites).delete()
            RewardPenalty.objects.filter(site__in=sites).delete()
            Appraisal.objects.filter(staff__in=staff).delete()
            Period.objects.filter(sites__in=sites).delete()
            Batch.objects.filter(site__in=sites).delete()
            Questionnaire.objects.filter(created_by__in=staff, batches__isnull=True).delete()
            VisitCampaign.objects.filter(site__in=sites).delete()
            get_user_model().objects.filter(staff__in=staff).delete()
            Site.objects.filter(pk__in=[s.pk for s in sites]).delete()
        except ProtectedError as exc:
            names = sorted({str(obj) for obj in exc.protected_objects})[:5]
            raise BenchError(f"基准数据已被其他数据引用，无法自动清除：{'、'.join(names)}") from None


def anchor_moment(day: date | None) -> datetime:
    """The start of the anchor day (local time): the seeded year ends just before it."""
    day = day or timezone.localdate()
    return timezone.make_aware(datetime.combine(day, clock_time(0)))


def run(
    options: Options,
    *,
    reset: bool = False,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
) -> Outcome:
    """Seed; ``say`` reports progress, ``warn`` (default ``say``) what ``reset`` deletes,
    which is said even when the rest is not."""
    with translation.override("zh-hans"):
        return _run(options, reset=reset, say=say, warn=warn or say)


def _run(options: Options, *, reset: bool, say: Callable[[str], None], warn: Callable[[str], None]) -> Outcome:
    outcome = Outcome()
    clock = time.monotonic()

    def lap(label: str) -> None:
        nonlocal clock
        now = time.monotonic()
        outcome.timings.append((label, now - clock))
        say(f"  {label}：{now - clock:.1f} 秒")
        clock = now

    doomed = check(reset)
    anchor = outcome.anchor = anchor_moment(options.anchor)
    first_day = timezone.localtime(anchor).date() - timedelta(days=365)
    sink = Sink()
    sink.tune()
    sink.check_references_at_end()
    try:
        # One transaction: a seed that fails half-way leaves the database as it was, indexes
        # and all.
        with transaction.atomic():
            if reset and doomed:
                warn("将删除：" + "，".join(doomed))
                wipe()
                lap("清除旧数据")
            rng = random.Random(options.seed)
            phones = PhoneBook(rng)
            ref = seed_reference_data()
            places = people.build_org(rng, ref, phones, people.site_count(options.tickets))
            before = int(anchor.timestamp()) - 366 * 86400
            outcome.rows.update(people.build_customers(rng, sink, places, phones, options.customer_count, before))
            staff_count = len({m.id for p in places for m in p.staff})
            lap(f"项目 {len(places)} 个、员工 {staff_count} 名、客户 {sum(len(p.customers) for p in places):,} 位")

            sites = [_site(place, first_day, timezone.localtime(anchor).date()) for place in places]
            generator = Generator(
                sites=sites,
                leaves=leaves_from(list(ref.categories.values())),
                text=sink.text,
                ids={model: sink.next_id(model) for model in rows.MODELS},
                anchor=anchor,
                tickets=options.tickets,
                seed=options.seed,
                tz=timezone.get_current_timezone(),
                department_names=dict(Department.objects.values_list("id", "name")),
            )
            restore = sink.set_aside(rows.MODELS) if options.tickets >= BULK_FROM else []
            tables = rows.tables(sink)
            progress = Progress(options.tickets, "工单", enabled=not options.quiet)
            written: dict[str, int] = {}
            for batch in generator.days():
                for name, table in tables.items():
                    found = batch.rows.get(name, [])
                    sink.write(table, found)
                    written[table.name] = written.get(table.name, 0) + len(found)
                progress.update(batch.tickets)
            progress.close()
            outcome.rows.update(written)
            lap(f"工单 {options.tickets:,} 张及其记录、投诉、回访与警告卡")
            if restore:
                sink.put_back(restore)
                lap(f"重建索引与外键（{len(restore)} 个）")
            sink.check_references([*rows.MODELS, Complaint])

            _counters(generator.numbers)
            outcome.rows[Counter._meta.db_table] = len(generator.numbers)
            outcome.rows[HandlerLoad._meta.db_table] = loads_recount()
            outcome.rows.update(survey.build(random.Random(options.seed + 1), sink, places, anchor))
            sink.finish([*rows.MODELS, *people.MODELS, Invitation, Response, Answer])
    finally:
        sink.restore_checks()
    sink.analyze()
    lap("编号计数器、满意度调查与统计信息")
    return outcome


def _site(place: people.Place, first: date, last: date) -> TicketSite:
    """What the generator needs of a site: its calendar and call windows as tables, its
    warning rules and time limits."""
    table = DayTable(calendar_for_site(place.id), first - timedelta(days=2), last + timedelta(days=40))
    visit_rules = VisitRules.objects.filter(site_id=place.id).first() or VisitRules()
    windows = Windows(ContactWindows.outside(visit_rules.quiet_hours), table)
    policies = {(p.kind, p.urgency): p for p in SlaPolicy.objects.filter(site__isnull=True)}
    policies.update({(p.kind, p.urgency): p for p in SlaPolicy.objects.filter(site_id=place.id)})
    sla: dict[tuple[str, str], tuple[int, int, int | None]] = {}
    for kind in Kind.values:
        for urgency in Urgency.values:
            policy = policies.get((kind, urgency))
            if policy is None:
                respond, resolve = default_minutes(kind, urgency)
                sla[(kind, urgency)] = (respond, resolve, None)
            else:
                sla[(kind, urgency)] = (policy.respond_minutes, policy.resolve_minutes, policy.arrive_minutes)
    return TicketSite(place, table, windows, rules_for(place.id), sla)


def _counters(numbers: dict[str, int]) -> None:
    """The numbering counters as intake would have left them: one per site, kind and day,
    at the last number given."""
    Counter.objects.filter(key__in=list(numbers)).delete()
    Counter.objects.bulk_create([Counter(key=key, value=value) for key, value in numbers.items()], batch_size=2000)


def digest(limit: int | None = None) -> str:
    """A fingerprint of the seeded tickets and their timelines that does not depend on the
    database's ids: numbers, contents, people by employee number, times. Two seeds with the
    same options give the same digest on any database."""
    staff = dict(Staff.objects.values_list("id", "employee_no"))
    sites = dict(Site.objects.values_list("id", "code"))
    customers = dict(Customer.objects.values_list("id", "name"))
    sha = hashlib.sha256()
    fields = ["site_id", "number", "kind", "channel", "category__name", "urgency", "status", "customer_id",
              "contact_name", "contact_phone", "content", "first_responder_id", "assignee_id", "created_at",
              "dispatched_at", "accepted_at", "arrived_at", "completed_at", "confirmed_at", "closed_at",
              "respond_delta", "resolve_delta", "handling_minutes", "clock__next_check_at", "clock__sla_done", "rating",
              "work_notes", "fee", "version", "id"]  # fmt: skip
    ids: dict[int, str] = {}
    tickets = Ticket.objects.order_by("site__code", "number").values_list(*fields)
    for row in tickets[:limit] if limit else tickets:
        values = dict(zip(fields, row, strict=True))
        ids[values.pop("id")] = values["number"]
        # Named as when they were the ticket's own columns: the digest is the same for the same data.
        values["next_check_at"], values["sla_done"] = values.pop("clock__next_check_at"), values.pop("clock__sla_done")
        values["site_id"] = sites[values["site_id"]]
        values["customer_id"] = customers.get(values["customer_id"])
        values["first_responder_id"] = staff[values["first_responder_id"]]
        values["assignee_id"] = staff.get(values["assignee_id"])
        sha.update(repr(sorted(values.items())).encode())
    events = TicketEvent.objects.order_by("ticket_id", "at", "id").values_list(
        "ticket_id", "actor_id", "at", "type", "from_status", "to_status", "note"
    )
    for ticket_id, actor_id, at, type_, from_status, to_status, note in events.iterator(chunk_size=5000):
        if ticket_id in ids:
            sha.update(repr((ids[ticket_id], staff.get(actor_id), at, type_, from_status, to_status, note)).encode())
    return sha.hexdigest()
