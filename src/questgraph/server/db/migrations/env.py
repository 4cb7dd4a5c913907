"""Alembic's environment for questgraph's one migration tree: run in code by ``db/migrate.py``, on the
connection it passes (SQLite or PostgreSQL, already in a transaction), never from an alembic.ini."""

from __future__ import annotations

from alembic import context

from questgraph.server.db.migrate import comparison
from questgraph.server.db.schema import METADATA

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("questgraph's migrations run through questgraph.server.db.migrate, on a connection")

context.configure(
    connection=connection,
    target_metadata=METADATA,
    # SQLite cannot alter most of a table in place: Alembic's batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    **comparison(connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
