"""The fault_rules table in portable SQL; a count rule is spent in one conditional statement, so that two
processes never both take its last request."""

from __future__ import annotations

import json
from typing import Any

from questgraph.server.db.core import Database

_RULE = "SELECT id, spec, remaining, hits, created_at FROM fault_rules"
RuleRow = tuple[int, dict[str, Any], int | None, int, int]


class FaultStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, spec: dict[str, Any], remaining: int | None, created_at: int) -> int:
        return self.db.insert_id("INSERT INTO fault_rules (spec, remaining, hits, created_at) VALUES (?, ?, 0, ?)",
                                 (json.dumps(spec, separators=(",", ":")), remaining, created_at))

    def all(self) -> list[RuleRow]:
        return [(int(r[0]), json.loads(r[1]), r[2], int(r[3]), int(r[4])) for r in self.db.all(_RULE + " ORDER BY id")]

    def delete(self, rule_id: int) -> bool:
        return int(self.db.run("DELETE FROM fault_rules WHERE id = ?", (rule_id,)).rowcount) > 0

    def clear(self) -> int:
        return int(self.db.run("DELETE FROM fault_rules").rowcount)

    def spend(self, rule_id: int) -> bool:
        """Take one request of a count rule: False when none is left (or the rule is gone)."""
        row = self.db.returning("UPDATE fault_rules SET remaining = remaining - 1, hits = hits + 1 "
                                "WHERE id = ? AND remaining > 0 RETURNING remaining", (rule_id,))
        return row is not None

    def hit(self, rule_id: int) -> None:
        self.db.run("UPDATE fault_rules SET hits = hits + 1 WHERE id = ?", (rule_id,))
