"""The fault rules (docs/fault-injection.md), in the database so that every process of a deployment applies
the same rules and a ``count`` rule's remaining number is spent atomically across them."""

from __future__ import annotations

from sqlalchemy import Table

from questgraph.server.db.columns import generated_key, integer, text
from questgraph.server.db.tables import metadata

fault_rules = Table(
    "fault_rules", metadata,
    generated_key(),
    text("spec"),  # the rule's match and fault, as JSON (records.FaultRule.spec)
    integer("remaining", nullable=True),  # a count rule's requests still to fail; NULL for a probability rule
    integer("hits"),  # requests it has been injected into
    integer("created_at"),  # server-clock Unix seconds (D36)
)
