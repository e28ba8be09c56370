"""Human-readable sequence numbers from atomically advanced counters."""

from __future__ import annotations

from django.db import connection

from .models import Counter

_UPSERT = (
    f"INSERT INTO {Counter._meta.db_table} (key, value) VALUES (%s, 1) "
    f"ON CONFLICT (key) DO UPDATE SET value = {Counter._meta.db_table}.value + 1 "
    "RETURNING value"
)


def next_value(key: str) -> int:
    """Advance the counter ``key`` by one and return the new value.

    One statement does the read and the write: on PostgreSQL the row lock taken by
    ``ON CONFLICT DO UPDATE`` serialises concurrent callers until their transaction ends,
    and on SQLite the IMMEDIATE transaction already holds the write lock. Either way no two
    callers can ever see the same value, and a rolled-back caller leaves no gap in use.
    """
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [key])
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
