"""``kefu demo``: build the demo company (or say it is already there) and show the accounts."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.demo import data
from kefu.demo.builders import DemoError
from kefu.demo.runner import Options, account_rows, build_demo, summary


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows aligned in columns; Chinese characters count as two columns in a terminal."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


class Command(BaseCommand):
    help = "生成演示数据：一家物业公司的两个项目、员工、客户档案和近三个月的工单。重复运行不会重复生成。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=Options.customers, help="客户数量（默认 500）")
        parser.add_argument("--tickets", type=int, default=Options.tickets, help="工单数量（默认 3000）")
        parser.add_argument("--days", type=int, default=Options.days, help="工单分布的天数（默认 90）")
        parser.add_argument("--seed", type=int, default=Options.seed, help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--reset", action="store_true", help="先清除已有的演示数据再重新生成")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 1 or options["tickets"] < 0 or options["days"] < 1:
            raise CommandError("客户数量和天数至少为 1，工单数量不能为负数")
        started = time.monotonic()
        quiet = options["verbosity"] == 0

        def say(text: str) -> None:
            if not quiet:
                self.stdout.write(text)

        say("正在生成演示数据…")
        try:
            outcome = build_demo(
                Options(options["customers"], options["tickets"], options["days"], options["seed"]),
                reset=options["reset"],
                say=say,
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        if outcome.built:
            say(self.style.SUCCESS(f"演示数据已生成，用时 {time.monotonic() - started:.1f} 秒。"))
        else:
            say(self.style.WARNING("演示数据已存在，未做改动。如需重新生成，请运行：kefu demo --reset"))
        for line in summary():
            say("  " + line)
        say("")
        say(f"演示账号（每个岗位一个，密码均为 {data.PASSWORD}）：")
        for line in table([("岗位", "用户名", "密码", "姓名", "负责项目"), *account_rows()]):
            say(line)
