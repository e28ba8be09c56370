"""Domain errors. Services raise these; views turn them into toasts, the API into JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """A rule refused the request. ``message`` is shown to the user as it is, in the language
    active when the error was raised (a lazy translation is resolved here)."""

    status_code = 400

    def __init__(self, message: StrOrPromise, *, field: str | None = None, fields: dict[str, list[str]] | None = None):
        message = str(message)
        super().__init__(message)
        self.message = message
        self.fields: dict[str, list[str]] = dict(fields or {})
        if field:
            self.fields.setdefault(field, []).append(message)


class ValidationFailed(DomainError):
    status_code = 422


class PermissionDenied(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """Someone else changed the record first (optimistic locking)."""

    status_code = 409
