"""Shared persistence: the database handle every feature store runs on (SQLite, the embedded default, or
PostgreSQL), global object ids (D9), whole-state operations and settings, and the one schema declaration
(``schema.py``, every feature's ``tables.py``) with its migrations (``migrate.py``, ``migrations/``). Each
feature's SQL lives in its own ``store.py``."""

from questgraph.server.db.core import Database
from questgraph.server.db.ids import ObjectIds
from questgraph.server.db.open import DATA_ERRORS, DATABASE_ERRORS, is_postgres, open_database
from questgraph.server.db.state import WholeState

__all__ = ["DATABASE_ERRORS", "DATA_ERRORS", "Database", "ObjectIds", "WholeState", "is_postgres",
           "open_database"]
