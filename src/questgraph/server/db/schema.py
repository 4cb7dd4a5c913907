"""The one schema declaration: every feature's ``tables.py`` on one ``MetaData``, and what the database
handles read from it (table order, bytes columns, identity columns) instead of asking the database.

``FEATURES`` fills ``METADATA`` in its order; it is the order tables are created in, exported in
(a snapshot's ``tables``) and imported in, parents always before children (``table_order``)."""

from __future__ import annotations

import functools
import importlib

from sqlalchemy import Identity, LargeBinary, MetaData, Table

from questgraph.server.db.tables import metadata

# Importing a feature's tables.py declares its tables; the order here is their declaration order.
FEATURES = ("identity", "leaderboards", "achievements", "users", "commerce", "sso", "dashboard", "notifications",
            "federation", "integrity", "challenges", "faults")
for _feature in FEATURES:
    importlib.import_module(f"questgraph.server.{_feature}.tables")

METADATA: MetaData = metadata


@functools.cache
def table_order() -> tuple[str, ...]:
    """Every table, each after the tables its foreign keys name (reset walks it backwards); among tables
    free to go in any order, declaration order, so the order only changes when the declaration does."""
    declared = list(METADATA.tables.values())
    placed: list[Table] = []
    while declared:
        ready = next(t for t in declared
                     if all(fk.column.table in placed or fk.column.table is t for fk in t.foreign_keys))
        placed.append(ready)
        declared.remove(ready)
    return tuple(t.name for t in placed)


@functools.cache
def blob_columns(table: str) -> dict[str, bool]:
    """Column name → whether it holds bytes (a snapshot writes them as hex), in column order."""
    return {c.name: isinstance(c.type, LargeBinary) for c in METADATA.tables[table].columns}


@functools.cache
def identity_columns() -> tuple[tuple[str, str], ...]:
    """(table, column) of every key the database assigns (an identity column on PostgreSQL)."""
    return tuple((t.name, c.name) for t in METADATA.tables.values() for c in t.columns
                 if isinstance(c.identity, Identity))
