"""Writing rows fast: explicit ids, times as text, ``executemany`` on SQLite and ``COPY`` on
PostgreSQL, and a progress bar on stderr.

Rows are plain tuples in the order of the column names handed to ``Sink.table``; times are
whole seconds since the epoch, turned into the text each database parses by ``TimeText``
while the rows are built (no second pass over them). JSON columns get their JSON text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from django.core.management.color import no_style
from django.db import connections, models

Row = tuple[Any, ...]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimeText:
    """Epoch seconds → the text a database reads as that moment: Django's SQLite backend
    keeps naive UTC (``2024-06-01 02:00:00``), PostgreSQL takes an offset. About ten
    times faster than ``datetime.isoformat`` for the millions of times a seed writes."""

    def __init__(self, vendor: str) -> None:
        self.suffix = "+00" if vendor == "postgresql" else ""
        self._days: dict[int, str] = {}
        suffix = self.suffix
        self._clock = [f"{h:02d}:{m:02d}:{s:02d}{suffix}" for h in range(24) for m in range(60) for s in range(60)]

    def __call__(self, ts: int) -> str:
        day, second = divmod(ts, 86400)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")
        return text + self._clock[second]

    def opt(self, ts: int | None) -> str | None:
        return None if ts is None else self(ts)


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    name: str
    columns: tuple[str, ...]


class Sink:
    """Bulk writes on the connection ``using``, inside the caller's transaction."""

    def __init__(self, using: str = "default") -> None:
        self.connection = connections[using]
        self.vendor = self.connection.vendor
        if self.vendor not in ("sqlite", "postgresql"):
            raise ValueError(f"不支持的数据库：{self.vendor}（只支持 SQLite 和 PostgreSQL）")
        self.text = TimeText(self.vendor)
        self.rows_written = 0
        self.deferred_checks = False

    def table(self, model: type[models.Model], columns: Sequence[str]) -> Table:
        known = {f.column for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise ValueError(f"{model._meta.db_table} has no column {unknown}")
        return Table(model, model._meta.db_table, tuple(columns))

    def next_id(self, model: type[models.Model]) -> int:
        """The first free id: rows get explicit ids so that related rows can point at them
        before anything is written (the sequences are moved past them in ``finish``)."""
        self.connection.ensure_connection()
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({model._meta.pk.column}) FROM {model._meta.db_table}")
            row = cursor.fetchone()
        return int(row[0] or 0) + 1 if row else 1

    def write(self, table: Table, rows: Sequence[Row]) -> None:
        if not rows:
            return
        self.connection.ensure_connection()
        raw = self.connection.connection
        assert raw is not None
        columns = ", ".join(f'"{c}"' for c in table.columns)
        if self.vendor == "sqlite":
            marks = ", ".join("?" * len(table.columns))
            cursor = raw.cursor()
            try:
                cursor.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', rows)
            finally:
                cursor.close()
        else:
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        self.rows_written += len(rows)

    def set_aside(self, models_: Iterable[type[models.Model]]) -> list[str]:
        """Drop the secondary indexes of ``models_`` (and on PostgreSQL their foreign keys)
        for the load, returning the statements that put them back: building an index once
        over sorted rows is many times faster than keeping it up to date row by row. Inside
        the load's transaction, so that a failed seed leaves the schema as it was."""
        restore: list[str] = []
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                # Check what this transaction wrote so far now: a table with checks pending
                # cannot be altered.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for model in models_:
                table = model._meta.db_table
                if self.vendor == "sqlite":
                    cursor.execute(
                        "SELECT name, sql FROM sqlite_master "
                        "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                        [table],
                    )
                    for name, sql in cursor.fetchall():
                        cursor.execute(f'DROP INDEX "{name}"')
                        restore.append(sql)
                    continue
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    [table],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                    restore.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                cursor.execute(
                    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid "
                    "WHERE x.indrelid = %s::regclass "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                    [table],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f'DROP INDEX "{name}"')
                    restore.insert(0, definition)  # indexes before the foreign keys that use them
        return restore

    def check_references_at_end(self) -> None:
        """SQLite checks every foreign key of every row as it is inserted; for a load, one
        ``foreign_key_check`` at the end (``check_references``) does the same work once.
        Only possible outside a transaction; Django turns the checks back on for the next
        connection."""
        if self.vendor == "sqlite" and not self.connection.in_atomic_block:
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys = OFF")
            self.deferred_checks = True

    def check_references(self, models_: Iterable[type[models.Model]]) -> None:
        """Every foreign key of the loaded rows points at a row (SQLite; PostgreSQL checked
        them when the constraints were added back)."""
        if not self.deferred_checks:
            return
        with self.connection.cursor() as cursor:
            for model in models_:
                cursor.execute(f'PRAGMA foreign_key_check("{model._meta.db_table}")')
                broken = cursor.fetchmany(5)
                if broken:
                    raise ValueError(f"{model._meta.db_table}: rows point at missing rows: {broken}")

    def restore_checks(self) -> None:
        if self.deferred_checks:
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys = ON")
            self.deferred_checks = False

    def put_back(self, statements: Sequence[str]) -> None:
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for statement in statements:
                cursor.execute(statement)

    def tune(self) -> None:
        """Session settings for a bulk load: a big page cache on SQLite, no waiting for the
        WAL flush at each commit on PostgreSQL (a crash loses at most the last batches of a
        seed that must then be redone anyway)."""
        self.connection.ensure_connection()
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute("PRAGMA cache_size = -524288")  # 512 MiB
                if not self.connection.in_atomic_block:
                    cursor.execute("PRAGMA temp_store = MEMORY")
            else:
                cursor.execute("SET synchronous_commit = off")

    def finish(self, models_: Iterable[type[models.Model]]) -> None:
        """Move the id sequences past the explicit ids (PostgreSQL; SQLite's AUTOINCREMENT
        follows by itself) and refresh the planner's statistics."""
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                for statement in self.connection.ops.sequence_reset_sql(no_style(), list(models_)):
                    cursor.execute(statement)
            else:
                cursor.execute("ANALYZE")

    def analyze(self) -> None:
        """PostgreSQL's statistics and visibility map, outside any transaction (after the
        load): without the map the reports' covering indexes are not read alone
        (docs/decisions/0006)."""
        if self.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                # VACUUM cannot run in a transaction (a test's, say); ANALYZE alone can.
                cursor.execute("ANALYZE" if self.connection.in_atomic_block else "VACUUM ANALYZE")


class Progress:
    """A one-line progress bar on stderr: share done, count, rows per second, time left.
    On a terminal it redraws in place; in a log it writes a line every tenth."""

    def __init__(self, total: int, label: str, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total, self.label, self.enabled = max(total, 1), label, enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.started = self.drawn = time.monotonic()
        self.step = -1

    def update(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self.drawn >= 0.2 or self.done >= self.total:
                self.drawn = now
                self.stream.write("\r" + self.line(now))
                self.stream.flush()
        else:
            step = self.done * 10 // self.total
            if step != self.step:
                self.step = step
                self.stream.write(self.line(now) + "\n")
                self.stream.flush()

    def line(self, now: float) -> str:
        share = min(self.done / self.total, 1.0)
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 24
        filled = int(share * width)
        bar = "█" * filled + "·" * (width - filled)
        return (
            f"{self.label} {bar} {share * 100:5.1f}%  {self.done:,}/{self.total:,}  "
            f"{rate:,.0f}/秒  已用 {_clock(elapsed)}  剩余 {_clock(left)}"
        )

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\r" + self.line(time.monotonic()) + "\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
