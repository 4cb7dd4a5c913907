"""The leaderboard routes (graph-api.md §1): method, documented path, handler (leaderboards/views.py)."""

from __future__ import annotations

from questgraph.server.graph.routing import ObjectRoute, Route, RouteTable
from questgraph.server.leaderboards.service import LeaderboardService
from questgraph.server.leaderboards.views import (
    leaderboard_delete,
    leaderboard_entries,
    leaderboard_entry_delete,
    leaderboard_entry_get,
    leaderboard_get,
    leaderboard_remove_all_entries,
    leaderboard_submit_entry,
    leaderboards,
    leaderboards_create_or_update,
)

ROUTES: RouteTable[LeaderboardService] = (
    Route("POST", "/{app_id}/leaderboards", leaderboards_create_or_update),
    Route("GET", "/{app_id}/leaderboards", leaderboards),
    Route("POST", "/leaderboard_submit_entry", leaderboard_submit_entry),
    Route("GET", "/leaderboard_entries", leaderboard_entries),
    Route("POST", "/leaderboard_remove_all_entries", leaderboard_remove_all_entries),
    ObjectRoute("leaderboard", get=leaderboard_get, delete=leaderboard_delete),  # GET/DELETE /{leaderboard_id}
    ObjectRoute("entry", get=leaderboard_entry_get, delete=leaderboard_entry_delete),  # GET/DELETE /{entry_id}
)
