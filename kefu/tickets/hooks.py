"""Reactions of higher apps to ticket moves, kept here as an explicit list (STYLE.md: no
signals, no upward imports). An app appends its function at start-up (``AppConfig.ready``);
``ticket_transition`` calls each inside the same transaction, after the move is written, so a
reaction that fails rolls the move back with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kefu.org.models import Staff

    from .models import Ticket


class TransitionHook(Protocol):
    def __call__(self, *, ticket: Ticket, action: str, actor: Staff, at: datetime) -> None: ...


AFTER_TRANSITION: list[Callable[..., None]] = []
