"""Rank index: the D14 order of every board, with O(log n) rank and position reads (D22)."""

from questgraph.server.ranking.index import InMemoryRankIndex, RankIndex
from questgraph.server.ranking.keys import sort_key

__all__ = ["InMemoryRankIndex", "RankIndex", "sort_key"]
