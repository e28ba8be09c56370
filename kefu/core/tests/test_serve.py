"""``kefu serve`` for real: gunicorn in a child process on a migrated temporary SQLite
database, the login page and a vendored static file through WhiteNoise, and a graceful stop
on SIGTERM; and the development server it falls back to where gunicorn cannot be imported."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kefu.core.server import THREADS_PER_WORKER, ServerOptions, default_workers

ROOT = Path(__file__).resolve().parents[3]
HTMX = ROOT / "kefu" / "static" / "vendor" / "htmx.min.js"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn does not run on Windows")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("serve")
    subprocess.run([sys.executable, "-m", "kefu", "migrate", "-v0"], cwd=ROOT, env=_env(found), check=True, timeout=300)
    return found


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(KEFU_DATA_DIR=str(data_dir), DATABASE_URL=f"sqlite:///{data_dir / 'kefu.sqlite3'}")
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, str, bytes, str]:
    link = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        link.request("GET", path)
        response = link.getresponse()
        return (
            response.status,
            response.getheader("Content-Type", ""),
            response.read(),
            response.getheader("Server", ""),
        )
    finally:
        link.close()


def _wait_until_up(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, f"kefu serve exited with {process.returncode}"
        try:
            _get(port, "/login/")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("kefu serve did not answer within 90 s")


Started = Callable[..., tuple[subprocess.Popen[bytes], int, Path]]


@pytest.fixture
def started(data_dir: Path, tmp_path: Path) -> Iterator[Started]:
    """Starts a command serving Kefu on a free port (``--port`` appended) and waits until it
    answers; whatever is still running at the end of the test is killed."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> tuple[subprocess.Popen[bytes], int, Path]:
        port = _free_port()
        log = tmp_path / f"serve-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*args, "--port", str(port)], cwd=ROOT, env=_env(data_dir), stdout=out, stderr=subprocess.STDOUT
            )
        processes.append(process)
        _wait_until_up(process, port)
        return process, port, log

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_runs_gunicorn_with_static_files_and_stops_on_sigterm(started: Started) -> None:
    process, port, log = started(sys.executable, "-m", "kefu", "serve", "--workers", "2", "--threads", "2")

    status, content_type, body, server = _get(port, "/login/")
    assert status == 200
    assert content_type.startswith("text/html")
    assert "登录".encode() in body
    assert server == "gunicorn"

    status, content_type, body, _server = _get(port, "/static/vendor/htmx.min.js")
    assert status == 200
    assert content_type.startswith("text/javascript")
    assert body == HTMX.read_bytes()
    assert _get(port, "/static/vendor/nothing-here.js")[0] == 404

    # An agent's browser keeps its connection between clicks seconds apart: the server does
    # not close it under the next request (it did at 5 s idle).
    link = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for pause in (0, 6):
            time.sleep(pause)
            link.request("GET", "/login/")
            response = link.getresponse()
            response.read()
            assert response.status == 200
    finally:
        link.close()

    stopped_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert time.monotonic() - stopped_at < 15
    output = log.read_text()
    assert "2 个进程 × 2 个线程" in output
    assert "Traceback" not in output


def test_serve_falls_back_to_the_development_server_without_gunicorn(started: Started) -> None:
    # What a Windows machine sees: gunicorn cannot be imported.
    no_gunicorn = "import sys; sys.modules['gunicorn'] = None; from kefu.__main__ import main; main()"
    process, port, log = started(sys.executable, "-c", no_gunicorn, "serve")

    status, _type, _body, server = _get(port, "/login/")
    assert status == 200
    assert "gunicorn" not in server
    status, content_type, body, _server = _get(port, "/static/vendor/htmx.min.js")
    assert (status, body) == (200, HTMX.read_bytes())
    assert "javascript" in content_type
    process.terminate()
    process.wait(timeout=30)
    assert "无法使用 gunicorn" in log.read_text()


def test_defaults_one_worker_per_core_with_threads() -> None:
    settings = ServerOptions().gunicorn_settings()
    assert settings["workers"] == default_workers() >= 1
    assert settings["threads"] == THREADS_PER_WORKER
    assert settings["worker_class"] == "gthread"
    assert settings["bind"] == ["127.0.0.1:8000"]

    single = ServerOptions(host="::1", port=9000, workers=3, threads=1).gunicorn_settings()
    assert (single["workers"], single["worker_class"], single["bind"]) == (3, "sync", ["[::1]:9000"])
