"""The whole-state snapshot the admin API and the dashboard export and import: its version and the shape an
imported one must have before the database is touched."""

from __future__ import annotations

import re
from typing import Any

from questgraph.server.errors import InvalidParameter

SNAPSHOT_VERSION = 1
_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,63}")


def check_snapshot_tables(tables: Any) -> None:
    """The shape of an exported snapshot: known tables, each a list of rows keyed by column names. Anything
    else is refused before the database is touched (column names end up in SQL, so they must be plain)."""
    if not isinstance(tables, dict):
        raise InvalidParameter("Param tables must be the JSON object of an exported snapshot")
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise InvalidParameter(f"Param tables: table {name} must be a list of row objects")
        for row in rows:
            for column in row:
                if not _COLUMN.fullmatch(column):
                    raise InvalidParameter(f"Param tables: table {name} has a malformed column name")
