"""What every benchmark script shares: Django set-up, percentiles, the table it prints, the
verdict against a target, and ``--smoke``.

A script is run on the database ``DATABASE_URL`` names (else the SQLite file in
``KEFU_DATA_DIR``), after ``kefu bench-seed`` (and ``kefu reindex`` for search). It prints one
table: case, figures, target and verdict. Checks of correctness (right hits, no duplicate
numbers, no errors) fail the script (exit code 1) in every mode; targets only print a verdict.
With ``--smoke`` a script does a small number of repetitions, on the small data ``bench/run.py
--smoke`` seeds, and prints ``smoke`` instead of a verdict: it proves the script still works.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Import Django with Kefu's settings (call before importing any ``kefu`` model)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()


def parser(description: str | None) -> argparse.ArgumentParser:
    """The arguments every script takes: ``--smoke`` and ``--anchor`` (the seed's anchor)."""
    found = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    found.add_argument("--smoke", action="store_true", help="few repetitions, no verdicts (make test)")
    found.add_argument(
        "--anchor", type=date.fromisoformat, default=date.today(), help="the anchor the data was seeded with"
    )
    return found


def percentile(samples: Sequence[float], share: float) -> float:
    """The ``share`` (0–1) percentile, nearest rank: p95 of 20 samples is the 19th smallest."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Timings:
    """Durations in seconds."""

    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    @contextmanager
    def lap(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.samples.append(time.perf_counter() - started)

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def max(self) -> float:
        return max(self.samples) if self.samples else math.nan

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) if self.samples else math.nan

    def summary_ms(self) -> str:
        p50, p95, top = (value * 1000 for value in (self.p50, self.p95, self.max))
        return f"n={len(self.samples)} p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {top:.1f} ms"


def time_it(call: Callable[[], Any], runs: int) -> Timings:
    found = Timings()
    for _ in range(runs):
        with found.lap():
            call()
    return found


class Report:
    """The printed table; ``fail`` records a broken check (exit code 1 at ``finish``)."""

    def __init__(self, title: str, *, smoke: bool) -> None:
        self.smoke = smoke
        self.failures: list[str] = []
        print(f"# {title}")
        print(f"database: {database_label()}{'  (smoke run: no verdicts)' if smoke else ''}", flush=True)

    def row(self, case: str, figure: str, *, target: str = "", met: bool | None = None) -> None:
        if self.smoke or met is None:
            verdict = "smoke" if self.smoke and met is not None else ""
        else:
            verdict = "met" if met else "NOT MET"
        tail = f"  target {target}: {verdict}" if target else (f"  {verdict}" if verdict else "")
        print(f"- {case}: {figure}{tail}", flush=True)

    def check(self, ok: bool, what: str) -> bool:
        """A correctness check: printed either way, a failure fails the script."""
        print(f"  check {'ok' if ok else 'FAILED'}: {what}", flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def finish(self) -> int:
        if self.failures:
            print(f"{len(self.failures)} check(s) failed", flush=True)
            return 1
        return 0


def database_label() -> str:
    from django.db import connection

    from kefu.tickets.models import Ticket

    return f"{connection.vendor}, tickets: {Ticket.objects.count():,}"


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process in MB (this one by default), from /proc."""
    path = f"/proc/{pid or os.getpid()}/status"
    with open(path, encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan
