"""`kefu worker`: the Huey consumer, end to end in real processes (SQLite queue)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[3]

ENQUEUE = """
from django.contrib.auth import get_user_model
from django.db import transaction
from kefu.notify.models import ChannelTarget
from kefu.notify.services import notify
from kefu.org.models import Staff
user = get_user_model().objects.create_user("boss", password="x")
boss = Staff.objects.create(user=user, name="钱经理", employee_no="E1", role="manager", phone="13800000002")
ChannelTarget.objects.create(name="客服群", kind="wecom", url="{url}/robot")
with transaction.atomic():
    notify(recipients=[boss], event="sla.breach", title="后台投递", body="由 kefu worker 发出")
"""


def test_worker_refuses_in_immediate_mode():
    with pytest.raises(CommandError, match="即时模式"):
        call_command("worker")


def test_worker_help_is_chinese():
    from kefu.core.management.commands.worker import Command

    assert "后台任务" in Command.help


REDIS_TEST_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
        client.ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {REDIS_TEST_URL} (CI starts it)")
    client.flushdb()  # a database of its own: nothing left from an earlier run
    return REDIS_TEST_URL


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_web_process_enqueues_on_commit_and_the_worker_sends(tmp_path, http_server, queue):
    env = {
        **os.environ,
        "KEFU_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kefu.sqlite3'}",
        "KEFU_HUEY_IMMEDIATE": "0",
        "DJANGO_SETTINGS_MODULE": "kefu.settings",
    }
    env.pop("REDIS_URL", None)
    if queue == "redis":
        env["REDIS_URL"] = _redis_or_skip()

    def kefu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kefu", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert kefu("migrate", "--noinput").returncode == 0
    enqueued = kefu("shell", "-c", ENQUEUE.format(url=http_server.url))
    assert enqueued.returncode == 0, enqueued.stderr
    # The queue lives where the settings say: a file next to the database, or Redis.
    assert (tmp_path / "huey.sqlite3").exists() == (queue == "sqlite")
    assert http_server.requests == []  # queued, not sent by the "web" process

    worker = subprocess.Popen(
        [sys.executable, "-m", "kefu", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not http_server.requests and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck consumer
            worker.kill()
            output, _ = worker.communicate()
    assert [body["text"]["content"].split("\n")[0] for body in http_server.bodies()] == ["后台投递"], output
    assert "Kefu 后台任务已启动" in output
