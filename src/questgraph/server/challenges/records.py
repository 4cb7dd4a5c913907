"""Challenge rows as ``challenges/store.py`` hands them to the service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Challenge:
    id: int
    app_id: int
    leaderboard_id: int
    title: str | None
    description: str | None
    visibility: str
    creation_type: str
    start_date: int  # Unix seconds; answered as ISO 8601 (graph-api.md 0.5)
    end_date: int
    created_at: int

    def running_at(self, now: int) -> bool:
        return self.start_date <= now < self.end_date
