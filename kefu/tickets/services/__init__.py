"""Every write to a ticket. Each function is atomic, checks its rules, bumps the ticket's
version (optimistic locking) and writes its own timeline event.

``grep ticket_`` in this package shows the whole ticket API."""

from ._common import CONFLICT_MESSAGE, MAX_CONTENT
from .complaints import (
    NOTIFY_METHODS,
    complaint_approve,
    complaint_implement,
    complaint_investigate,
    complaint_judge,
    complaint_major_reasons,
    complaint_mark_major,
    complaint_propose,
    complaint_refuse,
    complaint_send_back,
    complaint_summarize,
)
from .dispatch import hand_over_changes, pick_handler, ticket_dispatch, ticket_transfer
from .intake import ticket_create, ticket_create_with_new_customer
from .transitions import (
    CONFIRM_METHODS,
    ticket_accept,
    ticket_add_note,
    ticket_arrive,
    ticket_complete,
    ticket_confirm,
    ticket_transition,
    transition_changes,
)

__all__ = [
    "CONFIRM_METHODS",
    "CONFLICT_MESSAGE",
    "MAX_CONTENT",
    "NOTIFY_METHODS",
    "complaint_approve",
    "complaint_implement",
    "complaint_investigate",
    "complaint_judge",
    "complaint_major_reasons",
    "complaint_mark_major",
    "complaint_propose",
    "complaint_refuse",
    "complaint_send_back",
    "complaint_summarize",
    "hand_over_changes",
    "pick_handler",
    "ticket_accept",
    "ticket_add_note",
    "ticket_arrive",
    "ticket_complete",
    "ticket_confirm",
    "ticket_create",
    "ticket_create_with_new_customer",
    "ticket_dispatch",
    "ticket_transfer",
    "ticket_transition",
    "transition_changes",
]
