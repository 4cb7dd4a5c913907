"""The PostgreSQL backend (issue 6): ``PostgresStorage``, selected by a ``postgresql://`` database URL.

Needs the ``postgres`` extra (psycopg 3 and psycopg_pool); importing this package without them fails,
which ``storage.factory`` turns into a clear message."""

from questgraph.server.storage.postgres.storage import PostgresStorage

__all__ = ["PostgresStorage"]
