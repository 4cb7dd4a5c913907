"""The achievement routes (graph-api.md §2): method, documented path, handler (achievements/views.py)."""

from __future__ import annotations

from questgraph.server.achievements.service import AchievementService
from questgraph.server.achievements.views import (
    achievement_definition_get,
    achievement_definitions,
    achievement_definitions_create_or_update,
    achievement_remove_all,
    achievements,
    achievements_write,
)
from questgraph.server.graph.routing import ObjectRoute, Route, RouteTable

ROUTES: RouteTable[AchievementService] = (
    Route("POST", "/{app_id}/achievement_definitions", achievement_definitions_create_or_update),
    Route("GET", "/{app_id}/achievement_definitions", achievement_definitions),
    Route("POST", "/{user_id}/achievements", achievements_write),
    Route("GET", "/{user_id}/achievements", achievements),
    Route("POST", "/achievement_remove_all", achievement_remove_all),
    ObjectRoute("achievement_definition", get=achievement_definition_get),  # GET /{definition_id}
)
