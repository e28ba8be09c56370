"""Personas and real servers for notification tests: an SMTP server (aiosmtpd) and an HTTP
server (WeCom robot / SMS gateway) on 127.0.0.1, each on a free port."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kefu.org.models import Role, Site, Staff
from kefu.testing import make_site, make_staff, with_contact


@dataclass
class Team:
    site: Site
    other_site: Site
    director: Staff
    manager: Staff
    supervisor: Staff
    agent: Staff
    admin: Staff
    outsider_manager: Staff
    outsider_agent: Staff


@pytest.fixture
def team(db) -> Team:
    site, other = make_site("翠湖花园", code="CH"), make_site("国贸中心", code="GM")
    director = make_staff(Role.DIRECTOR, name="周总监")
    manager = make_staff(Role.MANAGER, sites=[site], superior=director, name="钱经理")
    supervisor = make_staff(Role.SUPERVISOR, sites=[site], superior=manager, name="孙主管")
    agent = make_staff(Role.AGENT, sites=[site], superior=supervisor, name="李专员")
    admin = make_staff(Role.ADMIN)
    outsider_manager = make_staff(Role.MANAGER, sites=[other])
    outsider_agent = make_staff(Role.AGENT, sites=[other])
    with_contact(supervisor, email="sun@example.com", phone="13800000001")
    with_contact(manager, email="qian@example.com", phone="13800000002")
    return Team(site, other, director, manager, supervisor, agent, admin, outsider_manager, outsider_agent)


# --- SMTP ---------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server; Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "客服中心 <kefu@example.com>"
    try:
        yield inbox
    finally:
        controller.stop()


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Hook:
    """What the local HTTP server received, and what it answers next."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    reply: Any = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[Any]:
        return [r["json"] for r in self.requests]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: expected in the time-out tests


@pytest.fixture
def http_server():
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with hook.lock:
                hook.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw": raw,
                        "json": json.loads(raw.decode("utf-8")),
                    }
                )
            if hook.delay:
                time.sleep(hook.delay)
            data = json.dumps(hook.reply, ensure_ascii=False).encode("utf-8")
            self.send_response(hook.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
