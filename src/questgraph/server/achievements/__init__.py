"""Achievements (graph-api.md §2, D23–D26)."""

from questgraph.server.achievements.service import AchievementService

__all__ = ["AchievementService"]
