"""Every benchmark, one after the other: ``make bench`` (full) and the smoke run of ``make test``.

    DATABASE_URL=… .venv/bin/python bench/run.py [--prepare] [--only search,load] [--anchor 2026-12-02]
    .venv/bin/python bench/run.py --smoke [--database sqlite|postgresql]

Full (``make bench``): on the database ``DATABASE_URL`` names (else the SQLite file in
``KEFU_DATA_DIR``). With ``--prepare`` a database without tickets is first migrated, seeded
with 1,000,000 tickets (``kefu bench-seed``, ~8 min) and indexed (``kefu reindex``, ~7 min);
one that holds tickets is used as it is. Each script prints its table (paste it into
RESULTS.md with the date and the command).

Smoke: a scratch database (a SQLite file in a temporary folder, or a PostgreSQL database
created and dropped on the server ``DATABASE_URL`` names) migrated, seeded with 20,000 tickets
and indexed, then every script with ``--smoke``: few repetitions, correctness checks, no
verdicts. The exit code is 1 when any script fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# In the order they run: the ones that only read first, the ones that write last.
SCRIPTS = ("reports", "ticket_list", "search", "sla_sweep", "export", "api_create", "intake_cpu", "load")
SMOKE_TICKETS = 20_000
SMOKE_ANCHOR = "2026-12-02"


def run(command: list[str], env: dict[str, str]) -> int:
    print(f"$ {' '.join(command)}", flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


def scripts(only: str) -> list[str]:
    chosen = [name.strip() for name in only.split(",") if name.strip()] if only else list(SCRIPTS)
    unknown = [name for name in chosen if name not in SCRIPTS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(SCRIPTS)}")
    return [name for name in chosen if (BENCH / f"{name}.py").exists()]


def run_all(names: list[str], env: dict[str, str], extra: list[str]) -> int:
    failed = []
    for name in names:
        started = time.monotonic()
        code = run([sys.executable, str(BENCH / f"{name}.py"), *extra], env)
        print(
            f"== {name}: {'ok' if code == 0 else f'FAILED (exit code {code})'} in {time.monotonic() - started:.0f} s\n"
        )
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    print(f"all {len(names)} benchmark(s) ran")
    return 0


def prepare(env: dict[str, str], anchor: str) -> int:
    kefu = [sys.executable, "-m", "kefu"]
    if run([*kefu, "migrate", "-v", "0", "--noinput"], env):
        return 1
    probe = "import sys; from kefu.tickets.models import Ticket; sys.exit(0 if Ticket.objects.exists() else 3)"
    if subprocess.call([*kefu, "shell", "-c", probe], cwd=ROOT, env=env) == 0:
        print("the database holds tickets: benchmarking it as it is")
        return 0
    for step in ([*kefu, "bench-seed", "--anchor", anchor], [*kefu, "reindex"]):
        if run(step, env):
            return 1
    return 0


def smoke(names: list[str], database: str) -> int:
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-smoke-"))
    env = {**os.environ, "KEFU_DATA_DIR": str(work), "KEFU_HUEY_IMMEDIATE": "0"}
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    scratch = f"kefu_bench_smoke_{uuid.uuid4().hex[:8]}"
    if database == "postgresql":
        admin = server.rsplit("/", 1)[0] + "/postgres"
        env["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + scratch
        _psql(admin, f"CREATE DATABASE {scratch}")
    else:
        env["DATABASE_URL"] = f"sqlite:///{work / 'kefu.sqlite3'}"
    try:
        kefu = [sys.executable, "-m", "kefu"]
        for step in (
            [*kefu, "migrate", "-v", "0", "--noinput"],
            [*kefu, "bench-seed", "--tickets", str(SMOKE_TICKETS), "--anchor", SMOKE_ANCHOR, "--quiet"],
            [*kefu, "reindex"],
        ):
            if run(step, env):
                print("the smoke data could not be made")
                return 1
        return run_all(names, env, ["--smoke", "--anchor", SMOKE_ANCHOR])
    finally:
        if database == "postgresql":
            _psql(admin, f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def _psql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]  # our own fixed statements


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--prepare", action="store_true", help="seed and index an empty database first")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(SCRIPTS))
    parser.add_argument("--anchor", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    names = scripts(args.only)
    if args.smoke:
        return smoke(names, args.database)
    env = dict(os.environ)
    if args.prepare and prepare(env, args.anchor.isoformat()):
        return 1
    return run_all(names, env, ["--anchor", args.anchor.isoformat()])


if __name__ == "__main__":
    raise SystemExit(main())
