"""The tables of ``db`` itself, and the one ``MetaData`` every feature's ``tables.py`` declares on
(``db/schema.py`` imports them all, in the order the tables are created and exported)."""

from __future__ import annotations

from sqlalchemy import MetaData, Table

from questgraph.server.db.columns import key, text

metadata = MetaData()

# Global object ids (D9): every id the server hands out, with the kind of object it names.
objects = Table("objects", metadata, key(), text("kind"))

settings = Table("settings", metadata, text("key", primary_key=True), text("value"))
