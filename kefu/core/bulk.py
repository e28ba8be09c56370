"""Many rows of one model written in a few statements, lighter than ``bulk_create``.

``QuerySet.bulk_create`` runs every value of every row through the field's whole chain
(``pre_save``, ``get_db_prep_save``, the compiler's ``prepare_value`` and ``field_as_sql``):
for the thousands of cards, timeline events and notifications of a sweep catching up after
downtime, a third of the sweep's CPU. ``insert_many`` writes the same rows, with the same
values, for models without database defaults or generated fields: a column's values are
taken as they are when they are of a plain type the column stores as is (a string for a text
column, an integer for an integer or a foreign key, a boolean), and through the field's own
``get_db_prep_save`` otherwise (datetimes, JSON, decimals). No signals are sent, as with
``bulk_create``.

On SQLite a statement is a list of VALUES; on PostgreSQL it carries one array a column
(``INSERT … SELECT … FROM unnest(%s::type[], …)``), a short text that psycopg parses once and
the server can keep prepared, with the arrays sent in binary.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import NOT_PROVIDED, DateField, Field, Model
from django.db.models.fields import AutoFieldMixin

from .prepared import binds_on_server, prepared_statements

M = TypeVar("M", bound=Model)

# What a column of these kinds stores a value of this type as: the value itself.
_AS_IS: dict[str, tuple[type, ...]] = {
    "CharField": (str,),
    "TextField": (str,),
    "SlugField": (str,),
    "EmailField": (str,),
    "URLField": (str,),
    "IntegerField": (int,),
    "BigIntegerField": (int,),
    "SmallIntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveBigIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "ForeignKey": (int,),
    "BooleanField": (bool,),
}
# JSON values the field's preparation hands to the database's adaptation as they are.
_JSON_PLAIN = frozenset({dict, list, str, int, float, bool})
# Rows a statement at most, whatever the number of parameters allows.
MAX_ROWS = 2000


def insert_many(objs: list[M]) -> list[M]:
    """Insert ``objs`` (unsaved instances of one model with an automatic primary key) as
    ``bulk_create`` would, setting each one's primary key; the same list is returned."""
    if not objs:
        return objs
    model = type(objs[0])
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    if (
        not connection.features.can_return_rows_from_bulk_insert
        or not isinstance(pk, AutoFieldMixin)
        or any(type(o) is not model or o.pk is not None for o in objs)
        or any(f.db_default is not NOT_PROVIDED or getattr(f, "generated", False) for f in fields)
    ):
        return model._default_manager.bulk_create(objs)  # type: ignore[attr-defined, no-any-return]
    db = connections[connection.alias]
    columns = [_column(f, db) for f in fields]
    # Every value is prepared before anything is written: a bad one (an unsaved related
    # object) writes no row.
    if connection.vendor == "postgresql":
        statements = _by_column(meta, fields, columns, objs)
    else:
        statements = _by_row(meta, fields, columns, objs)
    # All the statements or none, as bulk_create. Bound on the server where it can be: the
    # arrays go as they are instead of being spelt out as literals in the statement's text.
    with transaction.atomic(savepoint=False), prepared_statements():
        for sql, chunk, params in statements:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                ids = sorted(row[0] for row in cursor.fetchall())
            if len(ids) != len(chunk):
                raise RuntimeError(f"{meta.label}: {len(chunk)} rows inserted, {len(ids)} keys returned")
            # The keys of one INSERT's rows ascend in the order of its rows.
            for obj, key in zip(chunk, ids, strict=True):
                setattr(obj, pk.attname, key)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


Statement = tuple[str, list[M], list[Any]]


def _by_row(
    meta: Any, fields: list[Field[Any, Any]], columns: list[Callable[[Model], Any]], objs: list[M]
) -> list[Statement[M]]:
    """``INSERT … VALUES (…), (…)``: a parameter per value, as many rows a statement as the
    database takes parameters."""
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    tail = f" RETURNING {quote(meta.pk.column)}"
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, min(MAX_ROWS, _max_params() // max(1, len(fields))))
    statements: list[Statement[M]] = []
    for start in range(0, len(objs), size):
        chunk = objs[start : start + size]
        sql = head + ", ".join([one] * len(chunk)) + tail
        statements.append((sql, chunk, [prepare(obj) for obj in chunk for prepare in columns]))
    return statements


def unnest(types: Sequence[str]) -> str:
    """PostgreSQL: ``unnest(%b::type[], …)``, the rows of one array a column of these types,
    in binary where the statement will be bound on the server (``prepared_statements()``)."""
    param = "%b" if binds_on_server() else "%s"
    return f"unnest({', '.join(f'{param}::{kind}[]' for kind in types)})"


def _by_column(
    meta: Any, fields: list[Field[Any, Any]], columns: list[Callable[[Model], Any]], objs: list[M]
) -> list[Statement[M]]:
    """PostgreSQL: ``INSERT … SELECT FROM unnest(%s::type[], …)``, an array a column. The
    statement is the same short text for any number of rows: psycopg parses a statement's
    placeholders in Python, and for the VALUES form of a sweep's notifications (ten thousand
    placeholders) that was a quarter of the sweep's CPU."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    arrays = unnest([str(f.db_type(connection)) for f in fields])
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {names} FROM {arrays} "
        f"WITH ORDINALITY AS given ({names}, given_order) ORDER BY given_order RETURNING {quote(meta.pk.column)}"
    )
    statements: list[Statement[M]] = []
    for start in range(0, len(objs), MAX_ROWS):
        chunk = objs[start : start + MAX_ROWS]
        statements.append((sql, chunk, [[prepare(obj) for obj in chunk] for prepare in columns]))
    return statements


def _column(field: Field[Any, Any], db: BaseDatabaseWrapper) -> Callable[[Model], Any]:
    """How the value of ``field`` goes from an instance into the statement, on ``db`` (the
    connection itself: each attribute read through ``django.db.connection`` is a look-up of
    the thread's connection)."""
    attname = field.attname
    kind = field.get_internal_type()
    plain = _AS_IS.get(kind, ())
    prepare = field.get_db_prep_save
    pre_save = type(field).pre_save is not Field.pre_save and not (
        isinstance(field, DateField) and not field.auto_now and not field.auto_now_add
    )
    if pre_save:
        return lambda obj: prepare(field.pre_save(obj, True), db)
    if kind == "DateTimeField" and db.vendor == "postgresql":
        # psycopg takes an aware datetime as it is (Django's adaptation returns it unchanged);
        # a naive one goes through the field, which warns and makes it aware.
        def moment(obj: Model) -> Any:
            found = getattr(obj, attname)
            if found is None or (type(found) is datetime and found.tzinfo is not None):
                return found
            return prepare(found, db)

        return moment
    if kind == "JSONField":
        adapt, encoder = db.ops.adapt_json_value, field.encoder  # type: ignore[attr-defined]

        def document(obj: Model) -> Any:
            found = getattr(obj, attname)
            # A plain value is what the field's own preparation would pass to the adaptation.
            return adapt(found, encoder) if type(found) in _JSON_PLAIN else prepare(found, db)

        return document
    relation = bool(field.many_to_one)
    name, target = (field.name, field.target_field.attname) if relation else ("", "")  # type: ignore[attr-defined]

    def value(obj: Model) -> Any:
        found = getattr(obj, attname)
        if found is None and relation and field.is_cached(obj):  # type: ignore[attr-defined]
            related = field.get_cached_value(obj)  # type: ignore[attr-defined]
            if related is not None:
                # As bulk_create: the object was assigned before it was saved.
                found = getattr(related, target)
                if found is None:
                    raise ValueError(f"insert_many(): the related object '{name}' is not saved")
                setattr(obj, attname, found)
        if found is None or type(found) in plain:
            return found
        return prepare(found, db)

    return value


def _max_params() -> int:
    """The parameters one statement may have on this database."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        if hasattr(raw, "getlimit"):  # Python 3.11+
            return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        return int(connection.features.max_query_params or 999)
    return int(connection.features.max_query_params or 60000)
