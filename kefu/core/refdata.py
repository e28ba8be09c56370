"""Reference data that nearly every request reads, kept in each process between requests.

Sites, the category tree, departments, the time-limit policies, the warning rules and the
business calendars change a few times a month and are read by every intake, hand-over and
deadline: at a hundred tickets a second they were a third of the queries of a creation.
Each process keeps what it has loaded (``cached``) until one of three things happens:

* a row of a watched model is saved or deleted in this process (``changed``, from the
  signals ``watch`` connects): this process forgets everything at once, and bumps the
  ``refdata`` counter in the same transaction;
* another process bumps that counter: this process notices at its next read after
  ``CHECK_SECONDS`` (one indexed read, at most once a second) and forgets everything;
* an entry is older than ``MAX_AGE_SECONDS``, which bounds what a write the signals do not
  see (a bulk insert, raw SQL, a restore) can leave behind.

So a change reaches the process it was made in at once and every other within about a
second, as if the request it met had come a second earlier. Values handed out are shared
between threads: cache immutable values, or hand out copies (``copy_of``).
See docs/decisions/0012-reference-data-cache.md; API tokens and the dispatch rule's candidates
are kept the same way (0013).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.signals import post_delete, post_save

from .models import Counter
from .numbering import next_value

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)

GENERATION_KEY = "refdata"
CHECK_SECONDS = 1.0
MAX_AGE_SECONDS = 60.0

_clock = time.monotonic
_lock = threading.Lock()
_entries: dict[str, tuple[float, Any]] = {}
_state: dict[str, Any] = {"generation": None, "checked_at": float("-inf")}


def cached(key: str, load: Callable[[], T], *, keep_none: bool = True) -> T:
    """The value ``load()`` gave for ``key``, loading it when this process has none that
    is still good. With ``keep_none`` False a None is handed out and not kept: a lookup by
    a key that anyone can make up (a bearer token) must not fill the process with misses."""
    now = _clock()
    _check(now)
    hit = _entries.get(key)
    if hit is not None and now - hit[0] < MAX_AGE_SECONDS:
        return hit[1]  # type: ignore[no-any-return]
    value = load()
    if value is not None or keep_none:
        _entries[key] = (now, value)
    return value


def copy_of(instance: M | None) -> M | None:
    """A copy of a cached model instance, for a caller that may set attributes on it."""
    return None if instance is None else copy.copy(instance)


def changed(**_signal: Any) -> None:
    """Reference data was written: forget it here, and tell the other processes (the bump
    commits or rolls back with the change)."""
    clear()
    next_value(GENERATION_KEY)


def clear() -> None:
    """Forget everything; the next read checks the generation again."""
    with _lock:
        _entries.clear()
        _state["generation"] = None
        _state["checked_at"] = float("-inf")


def _check(now: float) -> None:
    if now - _state["checked_at"] < CHECK_SECONDS:
        return
    with _lock:
        generation = _read_generation()
        if generation != _state["generation"]:
            _entries.clear()
            _state["generation"] = generation
        _state["checked_at"] = now


def _read_generation() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {Counter._meta.db_table} WHERE key = %s", [GENERATION_KEY])
        row = cursor.fetchone()
    return 0 if row is None else int(row[0])


def watch(*models_: type[models.Model]) -> None:
    """Forget the reference data whenever a row of one of ``models_`` is saved or deleted."""
    for model in models_:
        label = model._meta.label_lower
        post_save.connect(changed, sender=model, dispatch_uid=f"refdata.save.{label}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"refdata.delete.{label}")
