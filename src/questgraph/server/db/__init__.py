"""Shared persistence: the database handle every feature store runs on (SQLite, the embedded default, or
PostgreSQL), global object ids (D9), whole-state operations and settings. Each feature's tables and SQL
live in its own ``store.py``."""

from questgraph.server.db.core import Database
from questgraph.server.db.ids import ObjectIds
from questgraph.server.db.open import DATABASE_ERRORS, is_postgres, open_database
from questgraph.server.db.state import WholeState

__all__ = ["DATABASE_ERRORS", "Database", "ObjectIds", "WholeState", "is_postgres", "open_database"]
