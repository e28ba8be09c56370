"""``kefu reindex``: rebuild the full-text search index of every ticket (docs/decisions/0005)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.tickets.search import reindex_all


class Command(BaseCommand):
    help = "重建全部工单的全文检索索引（升级后或批量导入数据后运行；可随时中断，重新运行会跳过已正确的工单）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=2000, help="每批工单数（默认 2000，每批一个事务）")
        parser.add_argument("--missing", action="store_true", help="只索引尚无索引的工单（接着完成一次中断的重建）")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = options["batch"]
        if not 1 <= batch <= 50_000:
            raise CommandError("每批工单数须在 1 到 50000 之间")
        quiet = options["verbosity"] == 0
        started = time.monotonic()
        tty = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if quiet:
                return
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0
            line = f"已索引 {done:,}/{total:,} 张工单（{done * 100 // max(total, 1)}%，{rate:,.0f} 张/秒）"
            # One line rewritten in place on a terminal; one line per batch in a log.
            self.stderr.write(f"\r{line}" if tty else line, ending="" if tty else "\n")

        written = reindex_all(batch=batch, missing=options["missing"], progress=progress)
        if tty and not quiet:
            self.stderr.write("")
        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(f"检索索引已重建：写入 {written:,} 条，用时 {time.monotonic() - started:.1f} 秒。")
            )
