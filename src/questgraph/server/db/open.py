"""Which backend a database setting names: ``postgresql://…`` (or ``postgres://…``) is
PostgreSQL; ``sqlite:///path``, a plain file path and ``:memory:`` are SQLite."""

from __future__ import annotations

import sqlite3

from questgraph.server.db.core import Database

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite://"


def is_postgres(database: str) -> bool:
    return database.startswith(POSTGRES_SCHEMES)


def sqlite_path(database: str) -> str:
    """The SQLite file of a setting: ``sqlite:///rel.db`` is ``rel.db``, ``sqlite:////abs.db`` is ``/abs.db``
    (SQLAlchemy's convention), ``sqlite://`` alone is ``:memory:``."""
    if database.startswith(SQLITE_SCHEME):
        rest = database[len(SQLITE_SCHEME):]
        return rest[1:] if rest.startswith("/") and rest != "/" else ":memory:"
    return database


def open_database(database: str, lanes: int = 4) -> Database:
    """SQLite or PostgreSQL by the URL; ``lanes``: the trips that may use a PostgreSQL pool at once."""
    if is_postgres(database):
        try:
            from questgraph.server.db.postgres import PostgresDatabase
        except ImportError as exc:  # the optional dependency is missing
            raise RuntimeError("a postgresql:// database needs the PostgreSQL driver: "
                               "pip install 'questgraph[postgres]'") from exc
        return PostgresDatabase(database, lanes)
    from questgraph.server.db.sqlite import SqliteDatabase

    return SqliteDatabase(sqlite_path(database))


def database_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean "the database failed" (answered as a transient 503, D7) on any backend."""
    errors: list[type[Exception]] = [sqlite3.Error]
    try:
        import psycopg
    except ImportError:
        pass
    else:
        errors.append(psycopg.Error)
    return tuple(errors)


DATABASE_ERRORS = database_errors()


def data_errors() -> tuple[type[Exception], ...]:
    """Database errors caused by a value (PostgreSQL's class 22: out of range, a NUL in text, …): retrying
    the same request cannot help, so they are not the transient 503 of a database failure (D7)."""
    try:
        from psycopg import DataError
    except ImportError:
        return ()
    return (DataError,)


DATA_ERRORS = data_errors()
