"""Related rows a service has just written, kept on the instance as ``prefetch_related`` keeps
what it read: ``instance.<name>.all()`` then answers from memory, so a caller showing what
was written (an API answering a POST) does not read it back.

Only for rows written in the same call, complete and in the order the reader expects; any
later write of such a row for the instance calls ``forget`` first, as Django's own related
managers do on ``add()`` and ``create()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Model


def keep(instance: Model, name: str, rows: Sequence[Model]) -> None:
    """``instance.<name>.all()`` is ``rows`` from now on (a reverse foreign key)."""
    queryset = getattr(instance, name).all()
    # What prefetch_related_objects does with the rows it fetched.
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset


def kept(instance: Model, name: str) -> bool:
    """Whether ``instance.<name>.all()`` answers from memory."""
    return name in instance.__dict__.get("_prefetched_objects_cache", {})


def forget(instance: Model, name: str) -> None:
    """The rows kept under ``name`` are no longer the whole story."""
    instance.__dict__.get("_prefetched_objects_cache", {}).pop(name, None)
