"""Challenges (graph-api.md A.1; deprecated by Meta but still served): time-boxed competitions on a
leaderboard, with their own keep-best entries."""

from questgraph.server.challenges.service import ChallengeService

__all__ = ["ChallengeService"]
