"""Reactions of higher apps to changes of a customer record, kept here as an explicit list
(STYLE.md: no signals, no upward imports). An app appends its function at start-up
(``AppConfig.ready``); ``customer_update`` calls each inside its transaction, after the
change and its history row are written, so a reaction that fails rolls the change back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import Customer


class CustomerUpdateHook(Protocol):
    def __call__(self, *, customer: Customer, changed: frozenset[str]) -> None: ...


# ``changed``: the names of the history snapshot that differ (name, phones, units, tags …).
AFTER_CUSTOMER_UPDATE: list[Callable[..., None]] = []
