"""Kefu's web server: gunicorn running the Kefu WSGI app (``kefu serve``, decision 0007).

One master process forks ``workers`` processes with ``threads`` request threads each (the
``gthread`` worker; the ``sync`` worker for one thread). The app is loaded once in the master
before the fork (``preload_app``), so a worker is serving within milliseconds and the workers
share the pages of the imported code. Static files come from WhiteNoise inside the app.

Stopping. SIGTERM (systemd, ``kill``) and Ctrl+C both stop gracefully: the master closes the
listening socket, the workers finish the requests in hand (up to ``GRACEFUL_SECONDS``) and the
master exits with code 0. A second Ctrl+C while waiting stops at once. Ctrl+C reaches every
process of the terminal's group, so the workers ignore SIGINT and wait for the master's word.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

# Measured on the 2-core development machine with bench/api_create.py (decision 0007): one
# worker per core with two threads each served the most ticket creations per second at the
# least CPU per request; more threads only queue on the GIL and on SQLite's write lock.
THREADS_PER_WORKER = 2
GRACEFUL_SECONDS = 20
KEEPALIVE_SECONDS = 75
# A request that takes longer than this is a stuck worker: the master kills and replaces it.
TIMEOUT_SECONDS = 120


def default_workers() -> int:
    """One worker process per core (at least one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = None  # None: default_workers()
    threads: int | None = None  # None: THREADS_PER_WORKER
    access_log: bool = False

    def gunicorn_settings(self) -> dict[str, Any]:
        workers = self.workers or default_workers()
        threads = self.threads or THREADS_PER_WORKER
        host = f"[{self.host}]" if ":" in self.host else self.host
        return {
            "bind": [f"{host}:{self.port}"],
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "preload_app": True,
            "graceful_timeout": GRACEFUL_SECONDS,
            "timeout": TIMEOUT_SECONDS,
            # Clients of an intranet keep their connection between the clicks of a page, and
            # between pages: an agent clicks every few seconds. At 5 s the server closed idle
            # connections just as agents 1–5 s apart sent their next request on them, which
            # then failed unanswered (2 of 9,475 in bench/load.py on PostgreSQL). 75 s, as
            # common reverse proxies keep them; an idle connection costs the gthread worker a
            # socket in its poller, no thread.
            "keepalive": KEEPALIVE_SECONDS,
            "accesslog": "-" if self.access_log else None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "kefu",
            # gunicornc's control socket would be one fixed file in $HOME for every instance;
            # Kefu is managed by its signals.
            "control_socket_disable": True,
            "post_worker_init": _ignore_interrupt,
        }


def _ignore_interrupt(worker: Any) -> None:
    # Ctrl+C in the terminal signals the whole process group; the master decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Arbiter(Arbiter):  # type: ignore[misc]
    def handle_int(self) -> None:
        # gunicorn's SIGINT is a quick stop that cuts requests off; make Ctrl+C graceful
        # like SIGTERM (a second Ctrl+C during the wait still stops at once, in stop()).
        self.handle_term()


class KefuServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from ``ServerOptions`` alone: no config file, no command line."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        super().__init__(prog="kefu serve")

    def load_config(self) -> None:
        for name, value in self.options.gunicorn_settings().items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from django.db import connections

        from kefu.wsgi import application

        # Loaded in the master before the fork: no database connection may be inherited.
        connections.close_all()
        return application

    def run(self) -> None:
        try:
            _Arbiter(self).run()
        except RuntimeError as exc:
            print(f"\n错误：{exc}\n", file=sys.stderr)
            sys.exit(1)


def serve(options: ServerOptions) -> None:
    """Serve until stopped; exits the process (code 0 after a graceful stop)."""
    KefuServer(options).run()
