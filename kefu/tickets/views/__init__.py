"""Ticket pages: workbench, list, intake, detail with one URL per action, phone page, and
the complaint workspace."""

from .complaints import approvals
from .tickets import (
    assignee_options,
    attachment,
    category_tree,
    home,
    intake,
    intake_lookup,
    mobile,
    mobile_detail,
    ticket_action,
    ticket_detail,
    ticket_export,
    ticket_list,
    ticket_note,
)

__all__ = [
    "approvals",
    "assignee_options",
    "attachment",
    "category_tree",
    "home",
    "intake",
    "intake_lookup",
    "mobile",
    "mobile_detail",
    "ticket_action",
    "ticket_detail",
    "ticket_export",
    "ticket_list",
    "ticket_note",
]
