"""The tables a seed writes in bulk: their columns in writing order, blank rows, and which
columns hold times (epoch seconds until the row is written)."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from django.db import models

from kefu.tickets.models import Assignment, Complaint, ComplaintProposal, Ticket, TicketClock, TicketEvent, WarningCard
from kefu.visits.models import Visit, VisitAttempt

from .sink import Row, Sink, Table, TimeText


def _times(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields if f.get_internal_type() == "DateTimeField")


def blank(model: type[models.Model]) -> dict[str, Any]:
    """A row of ``model`` with every column at its default (NULL, empty, 0 …)."""
    row: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.null:
            row[f.attname] = None
        elif f.has_default() and not callable(f.default):
            row[f.attname] = f.default
        elif f.get_internal_type() == "JSONField":
            row[f.attname] = f.get_default()
        else:
            row[f.attname] = ""
    return row


TICKET_COLUMNS = tuple(f.attname for f in Ticket._meta.concrete_fields)
TICKET_TIMES = _times(Ticket)
COMPLAINT_COLUMNS = tuple(f.attname for f in Complaint._meta.concrete_fields)
COMPLAINT_TIMES = _times(Complaint)
VISIT_COLUMNS = tuple(f.attname for f in Visit._meta.concrete_fields)
VISIT_TIMES = _times(Visit)
CLOCK_COLUMNS = ("ticket_id", "next_check_at", "sla_done")
EVENT_COLUMNS = ("id", "ticket_id", "actor_id", "at", "type", "visibility", "from_status", "to_status", "note", "data")
ASSIGNMENT_COLUMNS = ("id", "ticket_id", "mode", "from_department_id", "from_assignee_id", "to_department_id",
                      "to_assignee_id", "by_id", "reason", "at")  # fmt: skip
PROPOSAL_COLUMNS = ("id", "complaint_id", "round", "text", "state", "proposed_by_id", "proposed_at", "decided_by_id",
                    "decided_at", "decision_note")  # fmt: skip
CARD_COLUMNS = ("id", "key", "site_id", "ticket_id", "staff_id", "color", "rule", "deadline", "issued_at",
                "issued_by_id", "note", "revoked_at", "revoked_by_id", "revoke_reason")  # fmt: skip
ATTEMPT_COLUMNS = ("id", "visit_id", "at", "by_id", "outcome", "note")

TICKET_BLANK = blank(Ticket)
COMPLAINT_BLANK = blank(Complaint)
VISIT_BLANK = blank(Visit)

# The models whose ids a seed hands out itself (their sequences are moved on afterwards).
MODELS: tuple[type[models.Model], ...] = (
    Ticket, TicketClock, TicketEvent, Assignment, ComplaintProposal, WarningCard, Visit, VisitAttempt,
)  # fmt: skip


class Shaper:
    """Dicts of one model's values → rows in column order, times as the database's text."""

    def __init__(self, columns: tuple[str, ...], times: frozenset[str], text: TimeText) -> None:
        self.get = itemgetter(*columns)
        self.times = [i for i, c in enumerate(columns) if c in times]
        self.text = text

    def __call__(self, values: dict[str, Any]) -> Row:
        row = list(self.get(values))
        text = self.text
        for i in self.times:
            if row[i] is not None:
                row[i] = text(row[i])
        return tuple(row)


def tables(sink: Sink) -> dict[str, Table]:
    """The tables a day's rows go to, by the names ``Batch`` uses, in writing order."""
    return {
        "ticket": sink.table(Ticket, TICKET_COLUMNS),
        "clock": sink.table(TicketClock, CLOCK_COLUMNS),
        "event": sink.table(TicketEvent, EVENT_COLUMNS),
        "assignment": sink.table(Assignment, ASSIGNMENT_COLUMNS),
        "complaint": sink.table(Complaint, COMPLAINT_COLUMNS),
        "proposal": sink.table(ComplaintProposal, PROPOSAL_COLUMNS),
        "card": sink.table(WarningCard, CARD_COLUMNS),
        "visit": sink.table(Visit, VISIT_COLUMNS),
        "attempt": sink.table(VisitAttempt, ATTEMPT_COLUMNS),
    }
