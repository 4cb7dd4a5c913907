"""Leaderboards (graph-api.md §1, D13–D22)."""

from questgraph.server.leaderboards.service import EntriesPage, EntriesQuery, LeaderboardService, RankedEntry

__all__ = ["EntriesPage", "EntriesQuery", "LeaderboardService", "RankedEntry"]
