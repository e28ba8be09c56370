"""``kefu worker``: the background worker (Huey consumer): notification delivery, the
minute sweeps. Any number may run, on one machine (SQLite queue) or several (REDIS_URL)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey


class Command(RunHuey):
    help = "启动后台任务进程（通知投递、定时扫描）；可同时运行多个，按 Ctrl+C 停止"

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.contrib.djhuey import HUEY

        if HUEY.immediate:
            raise CommandError("当前为即时模式（KEFU_HUEY_IMMEDIATE），任务在网页进程内执行，无需启动后台进程")
        self.stdout.write(self.style.SUCCESS(f"Kefu 后台任务已启动（{type(HUEY.storage).__name__}），按 Ctrl+C 停止"))
        super().handle(*args, **options)
