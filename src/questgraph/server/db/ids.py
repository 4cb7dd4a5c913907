"""Global object ids (D9): every Graph object's id is unique across kinds, recorded in the ``objects``
table with its kind, so ``/{id}`` can tell what an id names."""

from __future__ import annotations

from questgraph.server.db.core import Database


class ObjectIds:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim_object_id(self, object_id: int, kind: str) -> bool:
        """Record ``object_id`` as an object of ``kind``; False when the id is taken."""
        # One statement: of two processes claiming one id, the database lets exactly one insert it.
        ran = self.db.run("INSERT INTO objects VALUES (?, ?) ON CONFLICT (id) DO NOTHING", (object_id, kind))
        return ran.rowcount == 1

    def object_kind(self, object_id: int) -> str | None:
        row = self.db.one("SELECT kind FROM objects WHERE id = ?", (object_id,))
        return None if row is None else str(row[0])

    def release_object_id(self, object_id: int) -> None:
        self.db.run("DELETE FROM objects WHERE id = ?", (object_id,))
