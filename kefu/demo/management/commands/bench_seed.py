"""``kefu bench-seed``: a year of a ten-site centre (1,000,000 tickets by default) for the
benchmarks, the same rows for the same seed and anchor on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.demo.bench.runner import SEED, BenchError, Options, run

MAX_TICKETS = 20_000_000


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是整数：{text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"至少为 1：{text}")
    return value


def _day(text: str) -> date:
    import argparse

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from None


class Command(BaseCommand):
    help = (
        "生成基准测试数据：10 个项目、200 名员工、约 N/20 位客户和锚定日期前 12 个月的 N 张工单"
        "（含处理记录、投诉、回访、警告卡和满意度答卷）。相同的种子和锚定日期生成相同的数据。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=_positive, default=Options.tickets, help="工单数量（默认 1,000,000）")
        parser.add_argument("--customers", type=_positive, default=None, help="客户数量（默认为工单数的 1/20）")
        parser.add_argument("--seed", type=int, default=SEED, help=f"随机种子（默认 {SEED}）")
        parser.add_argument(
            "--anchor", type=_day, default=None, help="锚定日期 YYYY-MM-DD：数据截止到这一天之前（默认今天）"
        )
        parser.add_argument("--reset", action="store_true", help="先删除库中全部工单、客户、房屋和已有的基准数据")
        parser.add_argument("--quiet", action="store_true", help="不显示进度")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tickets"] > MAX_TICKETS:
            raise CommandError(f"工单数量不能超过 {MAX_TICKETS:,}", returncode=2)
        if options["anchor"] is not None and options["anchor"] > date.today().replace(year=date.today().year + 1):
            raise CommandError("锚定日期不能晚于一年以后", returncode=2)
        quiet = options["quiet"] or options["verbosity"] == 0
        started = time.monotonic()

        def say(text: str) -> None:
            if not quiet:
                self.stdout.write(text)

        say(f"正在生成基准数据：{options['tickets']:,} 张工单，种子 {options['seed']}…")
        try:
            outcome = run(
                Options(
                    tickets=options["tickets"],
                    customers=options["customers"],
                    seed=options["seed"],
                    anchor=options["anchor"],
                    quiet=quiet,
                ),
                reset=options["reset"],
                say=say,
                warn=lambda text: self.stdout.write(self.style.WARNING(text)),
            )
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        assert outcome.anchor is not None
        say(self.style.SUCCESS(f"基准数据已生成，用时 {time.monotonic() - started:.1f} 秒。"))
        say(f"  数据截止：{outcome.anchor:%Y-%m-%d %H:%M}（不含）")
        for table, count in sorted(outcome.rows.items()):
            say(f"  {table:<32} {count:>12,}")
