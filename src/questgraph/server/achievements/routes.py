"""The achievement routes (graph-api.md §2): method, documented path, handler (achievements/views.py)."""

from __future__ import annotations

from questgraph.server.achievements.service import (
    MAX_BITFIELD_LENGTH,
    TYPES,
    WRITE_POLICIES,
    AchievementService,
)
from questgraph.server.achievements.views import (
    achievement_definition_get,
    achievement_definitions,
    achievement_definitions_create_or_update,
    achievement_remove_all,
    achievements,
    achievements_write,
)
from questgraph.server.graph.params import INT64_MAX
from questgraph.server.graph.routing import FIELDS, PAGING, ObjectRoute, Param, Route, RouteTable

API_NAME = Param("api_name", required=True)
READ = (Param("api_names", "list"), Param("include_archived", "boolean"), FIELDS, *PAGING)

ROUTES: RouteTable[AchievementService] = (
    Route("POST", "/{app_id}/achievement_definitions", achievement_definitions_create_or_update, (
        API_NAME, Param("achievement_type", enum=TYPES), Param("achievement_write_policy", enum=WRITE_POLICIES),
        Param("target", "integer", minimum=1, maximum=INT64_MAX),
        Param("bitfield_length", "integer", minimum=1, maximum=MAX_BITFIELD_LENGTH),
        Param("title"), Param("description"), Param("title_locale_map", "json"),
        Param("description_locale_map", "json"), Param("unlocked_description_override"),
        Param("is_archived", "boolean"), Param("is_secret", "boolean"),
        Param("unlocked_image_file", "file"), Param("locked_image_file", "file"),
    ), "Id"),
    Route("GET", "/{app_id}/achievement_definitions", achievement_definitions, READ, "AchievementDefinitions"),
    Route("POST", "/{user_id}/achievements", achievements_write, (
        API_NAME, Param("add_count", "integer", minimum=1, maximum=INT64_MAX), Param("add_bits"),
        Param("add_fields"), Param("force_unlock", "boolean"),
    ), "AchievementWrite"),
    Route("GET", "/{user_id}/achievements", achievements, READ, "AchievementProgressList"),
    Route("POST", "/achievement_remove_all", achievement_remove_all, (Param("user_id", "id", required=True),)),
    # GET /{definition_id}
    ObjectRoute("achievement_definition", get=achievement_definition_get, answer="AchievementDefinition"),
)
