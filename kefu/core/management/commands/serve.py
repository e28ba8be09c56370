"""``kefu serve``: serve Kefu with gunicorn, static files by WhiteNoise (decision 0007).

``--dev`` runs Django's development server instead (one process, threads, reloads nothing);
so does a machine where gunicorn cannot be imported (Windows), with a message saying so.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "启动 Kefu 网页服务（默认 http://127.0.0.1:8000，gunicorn 多进程；--dev 为开发服务器）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；局域网访问用 0.0.0.0）")
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument("--workers", type=_positive, default=None, help="工作进程数（默认每个 CPU 核心一个）")
        parser.add_argument("--threads", type=_positive, default=None, help="每个进程的线程数（默认 2）")
        parser.add_argument("--access-log", action="store_true", help="在标准输出打印每个请求")
        parser.add_argument("--dev", action="store_true", help="使用 Django 开发服务器（单进程，仅供开发）")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"端口 {port} 不正确，应为 1–65535")
        if not options["dev"]:
            try:
                from kefu.core import server
            except ImportError as exc:
                self.stderr.write(
                    self.style.WARNING(
                        f"无法使用 gunicorn（{exc}；Windows 不支持），改用开发服务器，仅适合试用和开发。"
                    )
                )
            else:
                found = server.ServerOptions(
                    host=host,
                    port=port,
                    workers=options["workers"],
                    threads=options["threads"],
                    access_log=options["access_log"],
                )
                settings = found.gunicorn_settings()
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Kefu 已启动：http://{host}:{port}/  "
                        f"（{settings['workers']} 个进程 × {settings['threads']} 个线程，按 Ctrl+C 停止）"
                    )
                )
                self.stdout.flush()
                server.serve(found)
                return
        self.stdout.write(self.style.SUCCESS(f"Kefu 开发服务器已启动：http://{host}:{port}/  （按 Ctrl+C 停止）"))
        # --insecure serves the vendored static files without a separate web server.
        call_command("runserver", f"{host}:{port}", insecure_serving=True, use_reloader=False, skip_checks=True)
