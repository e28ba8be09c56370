"""``kefu serve``: serve Kefu on this machine (development and small intranet installs)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "启动 Kefu 网页服务（默认 http://127.0.0.1:8000）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        self.stdout.write(self.style.SUCCESS(f"Kefu 已启动：http://{host}:{port}/  （按 Ctrl+C 停止）"))
        # --insecure serves the vendored static files without a separate web server.
        call_command("runserver", f"{host}:{port}", insecure_serving=True, use_reloader=False, skip_checks=True)
