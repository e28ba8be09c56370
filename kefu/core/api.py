"""Pieces shared by every app's REST endpoints (``<app>/api.py``); no domain knowledge.

Input types refuse what the database cannot store (NUL characters break PostgreSQL, lone
surrogates break every encoder) before a query is built, so hostile input gets a 422 with
a Chinese message instead of a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

from kefu.core.errors import DomainError

# The largest id a BIGINT column holds; anything larger cannot name a row.
MAX_ID = 2**63 - 1
MAX_LIMIT = 100


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("不能包含空字符")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("包含无效的字符")
    return value


_CLEAN = AfterValidator(clean_text)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Versions are PositiveIntegerFields: 32-bit on PostgreSQL.
Version = Annotated[int, Field(ge=0, le=2**31 - 1, description="读取记录时的 version，用于并发控制")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"每页条数，1–{MAX_LIMIT}")]
Offset = Annotated[int, Field(ge=0, le=10**9, description="跳过的条数")]
Str20 = Annotated[str, StringConstraints(max_length=20), _CLEAN]
Str30 = Annotated[str, StringConstraints(max_length=30), _CLEAN]
Str50 = Annotated[str, StringConstraints(max_length=50), _CLEAN]
Str100 = Annotated[str, StringConstraints(max_length=100), _CLEAN]
Str128 = Annotated[str, StringConstraints(max_length=128), _CLEAN]
Str150 = Annotated[str, StringConstraints(max_length=150), _CLEAN]
Str200 = Annotated[str, StringConstraints(max_length=200), _CLEAN]
Str254 = Annotated[str, StringConstraints(max_length=254), _CLEAN]
Str300 = Annotated[str, StringConstraints(max_length=300), _CLEAN]
Str500 = Annotated[str, StringConstraints(max_length=500), _CLEAN]
Str2000 = Annotated[str, StringConstraints(max_length=2000), _CLEAN]
Str5000 = Annotated[str, StringConstraints(max_length=5000), _CLEAN]


class ErrorOut(Schema):
    """Every error answer: a sentence for people and, where it applies, messages per field."""

    detail: str
    errors: dict[str, list[str]] = {}


class Ref(Schema):
    """A related record by id and display name."""

    id: int
    name: str


M = TypeVar("M", bound=Model)


def page(qs: QuerySet[M], limit: int, offset: int) -> tuple[int, list[M]]:
    """The total and one slice of ``qs``: two queries, whatever the slice size."""
    return qs.count(), list(qs[offset : offset + limit])


def ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.id, "name": str(getattr(obj, "name", obj))}


def renamed(exc: DomainError, names: Mapping[str, str]) -> DomainError:
    """``exc`` with its field names translated from the service's words to the API's
    (``department`` → ``department_id``), so errors point at the field the client sent."""
    exc.fields = {names.get(key, key): value for key, value in exc.fields.items()}
    return exc
