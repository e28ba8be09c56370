"""Prepared statements for the hottest write path (decision 0015).

On PostgreSQL, Django sends every statement with its parameters spliced in on the client
(psycopg's client-side binding), so the server parses, analyses and plans each one afresh:
about a third of the backend's CPU in a ticket creation, whose ten statements are the same
ten every time. Inside ``prepared_statements()`` the connection binds parameters on the
server and prepares a statement the second time it is sent; later executions reuse the
parse and the plan.

Only inside: a prepared statement may settle on a generic plan, which is right for the
INSERTs and primary-key reads of a creation, and could be wrong for a list or a report whose
best plan depends on the values filtered on (a status that is 2 % of the rows or 80 %).
Outside the block the connection is as Django made it, and statements prepared inside are
not used outside it. SQLite, and a PostgreSQL reached through a pooler that cannot keep
prepared statements (``KEFU_PG_PREPARED=0``), are left alone; so is a connection whose
queries are being logged (``DEBUG``, a test counting queries): Django can only log the text
of a statement sent with client-side binding.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

# The second execution of a statement on a connection prepares it: a statement met once
# (a bulk INSERT of an odd number of rows) is never prepared and never takes a slot of
# psycopg's cache of prepared statements.
PREPARE_THRESHOLD = 1


def enabled() -> bool:
    """Whether ``prepared_statements()`` switches the connection (see the module)."""
    return connection.vendor == "postgresql" and bool(settings.KEFU_PG_PREPARED) and not connection.queries_logged


@contextmanager
def prepared_statements() -> Iterator[None]:
    """Send the statements of the block with server-side binding, prepared from their
    second use on this connection (PostgreSQL only; a no-op elsewhere, when turned off and
    while queries are logged)."""
    if not enabled():
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]  # psycopg 3 only

    connection.ensure_connection()
    raw = connection.connection
    saved = (raw.cursor_factory, raw.prepare_threshold)
    raw.cursor_factory = ServerBindingCursor
    raw.prepare_threshold = PREPARE_THRESHOLD
    try:
        yield
    finally:
        # The connection may have been closed and replaced inside (a failed health check).
        if connection.connection is raw:
            raw.cursor_factory, raw.prepare_threshold = saved


def binds_on_server() -> bool:
    """Whether statements go with server-side binding, so that parameters may be sent in
    binary (``%b``): inside ``prepared_statements()`` (when it is ``enabled()``), or on a
    connection set up so."""
    if enabled():
        return True
    if connection.vendor != "postgresql":
        return False
    from psycopg import ClientCursor

    connection.ensure_connection()
    return not issubclass(connection.connection.cursor_factory, ClientCursor)
