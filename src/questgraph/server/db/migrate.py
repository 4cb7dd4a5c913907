"""Brings a database to the declared schema at start-up, on either backend, with the one Alembic tree in
``migrations/`` (its revisions serve SQLite and PostgreSQL alike).

What a handle finds when it opens its database, and what happens:

- ``alembic_version`` at ``HEAD``: nothing (two queries; Alembic is not even imported);
- nothing of questgraph's (a new file, an empty schema): the declared schema is created from
  ``db/schema.py`` in one transaction and stamped ``HEAD`` (faster than replaying every revision, and the
  same result: tests/test_schema.py checks that the revisions produce exactly the declaration);
- ``schema_migrations`` holding versions 1..7 and no ``alembic_version`` (a database the first releases
  made, whose hand-run SQL scripts stopped at schema 7): stamped ``BASELINE`` (the revision equal to
  schema 7), ``schema_migrations`` dropped (it would claim a state later revisions no longer match, and an
  old release started on the upgraded database then fails loudly instead of running on a schema it does
  not know), and every later revision run; every row is kept;
- an older ``alembic_version``: the revisions after it run;
- anything else (schema 1..6 of the first releases, a newer questgraph's revision, someone else's tables):
  ``SchemaError``, saying what to do; nothing is changed.

Processes starting together on one database migrate once: SQLite's write lock (``BEGIN IMMEDIATE``) or
a PostgreSQL advisory lock is taken before the state is read, so the second process finds the first one's
work done. On PostgreSQL everything happens in the schema the connection's search_path names.

New revision (``docs/deployment.md``): ``python -m questgraph.server.db.migrate revision "what changes"``.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Dialect, Identity, MetaData, PrimaryKeyConstraint, String, Table
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.schema import CreateIndex, CreateTable, SetTableComment

from questgraph.server.db.schema import METADATA, table_order

if TYPE_CHECKING:
    import psycopg
    from alembic.config import Config
    from sqlalchemy.engine import Connection

log = logging.getLogger("questgraph.storage")

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001_schema7"  # the revision equal to schema 7 of the first releases' SQL scripts
HEAD = "0006_faults"  # the newest revision (tests/test_schema.py checks it is the tree's head)
LEGACY_VERSIONS = frozenset(range(1, 8))  # schema_migrations of a schema-7 database
# pg_advisory_xact_lock key taken while migrating (any constant: "qgmigr" in ASCII).
MIGRATION_LOCK = 0x7167_6D69_6772

# Alembic's own version table, as Alembic creates it, for stamping without importing Alembic.
_VERSION_TABLE = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                       PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))


class SchemaError(RuntimeError):
    """The database is in a state this release cannot migrate from; the message says what to do."""


@dataclass(frozen=True)
class Found:
    """What a database holds, read before deciding what to do."""

    tables: frozenset[str]
    revision: str | None  # alembic_version's, if that table exists
    legacy: frozenset[int]  # schema_migrations' versions, if that table exists

    @property
    def fresh(self) -> bool:
        # A first release that died in its very first migration leaves an empty schema_migrations.
        return self.tables <= {"schema_migrations"} and not self.legacy and self.revision is None

    @property
    def is_legacy_schema7(self) -> bool:
        return self.revision is None and "alembic_version" not in self.tables and self.legacy == LEGACY_VERSIONS


# --- the declared schema as DDL ---------------------------------------------------------------------
@functools.cache
def _dialect(name: str) -> Dialect:
    # Only compiles DDL: no driver is needed.
    return SQLiteDialect() if name == "sqlite" else PGDialect()  # type: ignore[no-untyped-call]


@functools.cache
def create_statements(dialect_name: str) -> tuple[str, ...]:
    """The DDL that creates the declared schema and stamps it ``HEAD``, compiled once per process (a
    test session opens hundreds of databases)."""
    dialect = _dialect(dialect_name)
    statements: list[Any] = []
    for table in (METADATA.tables[name] for name in table_order()):
        statements.append(CreateTable(table))
        statements.extend(CreateIndex(index) for index in sorted(table.indexes, key=lambda i: str(i.name)))
        if table.comment is not None and dialect.supports_comments:
            statements.append(SetTableComment(table))
    statements.append(CreateTable(_VERSION_TABLE))
    ddl = [str(statement.compile(dialect=dialect)).strip() for statement in statements]
    return (*ddl, f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD}')")


# --- the two backends ------------------------------------------------------------------------------
def upgrade_sqlite(conn: sqlite3.Connection) -> None:
    """Bring the database of ``conn`` (autocommit mode: ``isolation_level=None``) to ``HEAD``. Runs on
    that connection, so ``:memory:`` works."""
    conn.execute("BEGIN IMMEDIATE")  # the write lock first: a second process waits, then finds it done
    try:
        _to_head(conn, "sqlite", "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def upgrade_postgres(conn: psycopg.Connection[Any]) -> None:
    """Bring the schema ``conn`` works in (its search_path's) to ``HEAD``, in one transaction: PostgreSQL's
    DDL is transactional, so a failure leaves the database as it was. ``conn`` is in autocommit mode."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        _to_head(conn, "postgresql",
                 "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")


def _to_head(conn: Any, dialect_name: str, tables_sql: str) -> None:
    """Both backends' steps, on a driver connection (sqlite3 or psycopg) in the transaction that holds the
    migration lock."""
    tables = frozenset(str(r[0]) for r in conn.execute(tables_sql).fetchall())
    revision = legacy = None
    if "alembic_version" in tables:
        revision = _first(conn.execute("SELECT version_num FROM alembic_version").fetchall())
    if "schema_migrations" in tables:
        legacy = frozenset(int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations").fetchall())
    found = Found(tables, revision, legacy or frozenset())
    if found.revision == HEAD:
        return
    if found.fresh:
        log.info("creating the schema (revision %s, %s)", HEAD, dialect_name)
        if "schema_migrations" in found.tables:
            conn.execute("DROP TABLE schema_migrations")
        for statement in create_statements(dialect_name):
            conn.execute(statement)
        return
    _check_upgradable(found)
    if found.is_legacy_schema7:
        log.info("stamping a schema-7 database as revision %s (%s)", BASELINE, dialect_name)
        conn.execute(str(CreateTable(_VERSION_TABLE).compile(dialect=_dialect(dialect_name))))
        conn.execute(f"INSERT INTO alembic_version (version_num) VALUES ('{BASELINE}')")
        conn.execute("DROP TABLE schema_migrations")
    _run_revisions("sqlite://" if dialect_name == "sqlite" else "postgresql+psycopg://", conn)


# --- the shared steps -----------------------------------------------------------------------------------
def _first(rows: Sequence[Any]) -> str | None:
    return str(rows[0][0]) if rows else None


def _check_upgradable(found: Found) -> None:
    if found.is_legacy_schema7:
        return
    if found.revision is not None:
        if found.revision not in revisions():
            raise SchemaError(f"the database is at schema revision {found.revision!r}, which this questgraph "
                              "does not know: a newer questgraph migrated it. Run that release (or newer).")
        return
    if found.legacy and found.legacy < LEGACY_VERSIONS and min(found.legacy) == 1:
        raise SchemaError(f"the database is at schema {max(found.legacy)} of questgraph's first releases; this "
                          "one upgrades schema 7 only. Start questgraph 0.1.0 on it once (it upgrades it to "
                          "schema 7), then this release.")
    names = ", ".join(sorted(found.tables)[:5])
    raise SchemaError(f"the database holds tables questgraph did not record creating ({names}…): give "
                      "questgraph an empty database (or PostgreSQL schema) of its own, or restore a backup.")


def comparison(dialect_name: str) -> dict[str, Any]:
    """How Alembic compares a database with the declaration (autogenerate, tests/test_schema.py): types and
    server defaults too, except that on SQLite, which has no identity columns (its rowid is the generated
    key), a declared identity is no difference. (On PostgreSQL Alembic's own comparison handles identity,
    and a callable there would meet a reflected identity it cannot read.)"""
    return {"compare_type": True,
            "compare_server_default": _sqlite_server_default if dialect_name == "sqlite" else True}


def _sqlite_server_default(context: Any, inspected_column: Any, metadata_column: Any, inspected_default: Any,
                           metadata_default: Any, rendered_metadata_default: Any) -> bool | None:
    return False if isinstance(metadata_column.server_default, Identity) else None  # None: Alembic decides


def alembic_config(connection: Connection | None = None) -> Config:
    """The tree in ``migrations/``, configured in code (no alembic.ini): ``env.py`` runs the revisions on
    ``connection`` (in its transaction)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def _run_revisions(url: str, conn: object) -> None:
    """Every revision after the database's, on ``conn`` (a driver connection), in the transaction open on
    it: the caller commits or rolls back."""
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    # No hstore lookup at connect: it needs psycopg's own connection class, and questgraph has no hstore.
    options = {"use_native_hstore": False} if url.startswith("postgresql") else {}
    engine = create_engine(url, creator=lambda: _Joined(conn), poolclass=StaticPool, pool_reset_on_return=None,
                           **options)
    with engine.connect() as connection:
        connection.begin()  # SQLAlchemy's view of the open transaction: Alembic then leaves it to us
        command.upgrade(alembic_config(connection), "head")


class _Joined:
    """A driver connection lent to SQLAlchemy for a migration inside a transaction its owner opened:
    SQLAlchemy may not commit, roll back or close it (its connect-time probe rolls back, for one)."""

    def __init__(self, conn: object) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


# --- writing a revision ---------------------------------------------------------------------------------
def new_revision(message: str) -> None:
    """Autogenerate a revision from what the declaration has that the revisions do not yet make: every
    revision is run on an in-memory SQLite database, then compared with ``db/schema.py``."""
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.connect() as connection:
        with connection.begin():
            command.upgrade(alembic_config(connection), "head")
        with connection.begin():
            command.revision(alembic_config(connection), message, autogenerate=True)
    print("Now read the new revision, and set HEAD in questgraph/server/db/migrate.py to its id.")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m questgraph.server.db.migrate",
                                     description="Write a new schema revision from db/schema.py.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("revision", help="autogenerate migrations/versions/<id>_<message>.py"
                        ).add_argument("message")
    arguments = parser.parse_args(argv)
    new_revision(arguments.message)


if __name__ == "__main__":
    main()
