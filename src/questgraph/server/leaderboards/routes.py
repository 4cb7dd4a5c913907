"""The leaderboard routes (graph-api.md §1): method, documented path, handler (leaderboards/views.py)."""

from __future__ import annotations

from questgraph.server.graph.params import INT64_MAX, INT64_MIN
from questgraph.server.graph.routing import FIELDS, ObjectRoute, Param, Route, RouteTable
from questgraph.server.leaderboards.service import (
    FILTERS,
    SORT_ORDERS,
    START_AT,
    START_AT_ALIASES,
    WRITE_POLICIES,
    LeaderboardService,
)
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

API_NAME = Param("api_name", required=True)

ROUTES: RouteTable[LeaderboardService] = (
    Route("POST", "/{app_id}/leaderboards", leaderboards_create_or_update, (
        API_NAME, Param("sort_order", enum=SORT_ORDERS), Param("entry_write_policy", enum=WRITE_POLICIES),
        Param("earliest_allowed_entry_time", "integer", minimum=0),
        Param("latest_allowed_entry_time", "integer", minimum=0), Param("title_locale_map", "json"),
    ), "Id"),
    Route("GET", "/{app_id}/leaderboards", leaderboards, (Param("api_name"), FIELDS), "Leaderboards"),
    Route("POST", "/leaderboard_submit_entry", leaderboard_submit_entry, (
        API_NAME, Param("score", "integer", required=True, minimum=INT64_MIN, maximum=INT64_MAX),
        Param("extra_data_base64"), Param("force_update", "boolean"), Param("user_id", "id"),
    ), "SubmitEntry"),
    Route("GET", "/leaderboard_entries", leaderboard_entries, (
        API_NAME, FIELDS, Param("filter", enum=FILTERS), Param("user_ids", "ids"),
        Param("start_at", enum=START_AT + tuple(START_AT_ALIASES)), Param("offset", "integer", minimum=0),
        Param("summary", "boolean"), Param("limit", "integer", minimum=0), Param("after", "cursor"),
        Param("before", "cursor"),
    ), "LeaderboardEntries"),
    Route("POST", "/leaderboard_remove_all_entries", leaderboard_remove_all_entries, (API_NAME,)),
    # GET/DELETE /{leaderboard_id}, GET/DELETE /{entry_id}
    ObjectRoute("leaderboard", get=leaderboard_get, delete=leaderboard_delete, answer="Leaderboard"),
    ObjectRoute("entry", get=leaderboard_entry_get, delete=leaderboard_entry_delete, answer="LeaderboardEntry"),
)
