"""What each role may do. One table, read by views, API and services alike."""

from __future__ import annotations

from .models import Role

ALL_SITES_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN})
# Roles that see only what is dispatched to them or their department.
FIELD_ROLES = frozenset({Role.TECHNICIAN, Role.DEPT_STAFF})
SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR})
OFFICE_ROLES = frozenset({Role.AGENT, Role.FRONTDESK, Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.ADMIN})

CAPABILITIES: dict[str, frozenset[str]] = {
    # customers
    "customers.view": OFFICE_ROLES,
    "customers.edit": frozenset({Role.AGENT, Role.FRONTDESK, Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR}),
    "customers.import": frozenset({Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.ADMIN}),
    "customers.export": frozenset({Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.ADMIN}),
    "customers.see_phone": frozenset({Role.AGENT, Role.FRONTDESK, Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR}),
    # tickets
    "tickets.intake": frozenset({Role.AGENT, Role.FRONTDESK, Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR}),
    "tickets.export": frozenset({Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.ADMIN}),
    # notifications: the delivery status page (every external send, its errors, "retry now")
    "notify.deliveries": frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN}),
    # satisfaction surveys: the office types in paper forms of its sites; supervisors and
    # above write questionnaires, hand them out and see the customers' links
    "surveys.enter": frozenset({Role.AGENT, Role.FRONTDESK, Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR}),
    "surveys.manage": frozenset({Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR}),
    # settings
    "settings.edit": frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN}),
    # time limits and warning rules (时限标准、警告规则): supervisors read them; managers edit
    # their own sites' override rows; the company-wide rows every site falls back to are
    # directors' and administrators'
    "policies.view": frozenset({Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR, Role.ADMIN}),
    "policies.edit": frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN}),
    "policies.edit_company": frozenset({Role.DIRECTOR, Role.ADMIN}),
}


def can(role: str, capability: str) -> bool:
    return role in CAPABILITIES.get(capability, frozenset())
