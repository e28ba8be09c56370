"""The benchmark scripts still work (issue 6): ``bench/run.py --smoke`` seeds 20,000 tickets into
a scratch database of the suite's kind (SQLite, or PostgreSQL under ``make test-pg``) and runs
every script with few repetitions. Timings are printed, never asserted; the scripts' own
correctness checks (right hits, no duplicate numbers, no failed request) fail their exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from run import SCRIPTS  # noqa: E402


def test_every_benchmark_runs_on_a_small_seed() -> None:
    database = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--database", database],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    tail = result.stdout[-6000:] + "\n--- stderr ---\n" + result.stderr[-4000:]
    assert result.returncode == 0, tail
    for name in SCRIPTS:
        assert f"== {name}: ok" in result.stdout, tail
    assert "check FAILED" not in result.stdout, tail
    assert "check ok" in result.stdout, tail
