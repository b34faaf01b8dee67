"""The live process's database reads, from its event loop.

A stream or the hub lives for minutes to days, outside the request cycle whose signals
give Django its connection hygiene (CONN_MAX_AGE, CONN_HEALTH_CHECKS, dropping a broken
connection). Without it, one restart or failover of the database would leave the live
process's connection dead and every later read failing until the process restarts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection


def live_read[**P, R](read: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`read` (a read-only query) in Django's database thread; once more on a new
    connection when the one it had was dropped. The connection is otherwise kept: the
    hub reads twice a second, and a health check before each read would double that."""

    @wraps(read)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return read(*args, **kwargs)
        except DatabaseError:
            # The server closed it under us (psycopg says so with OperationalError, sqlite3
            # with ProgrammingError); a read is safe to ask again on a new connection, and
            # a query that is wrong fails the second time too.
            connection.close()
            return read(*args, **kwargs)

    return sync_to_async(run)
