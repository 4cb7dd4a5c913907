"""The challenge routes (graph-api.md A.1): method, documented path, handler (challenges/views.py)."""

from __future__ import annotations

from questgraph.server.challenges.service import (
    CREATION_TYPES,
    FILTERS,
    START_AT,
    START_AT_ALIASES,
    VISIBILITIES,
    ChallengeService,
)
from questgraph.server.challenges.views import (
    challenge_delete,
    challenge_entries,
    challenge_get,
    challenge_update,
    challenges,
    challenges_create,
)
from questgraph.server.graph.routing import FIELDS, ObjectRoute, Param, Route, RouteTable

# Dates: Unix seconds or ISO 8601 on input (the docs use both); ISO 8601 in answers.
DATES = (Param("start_date"), Param("end_date"))
TEXTS = (Param("title"), Param("description"))

ROUTES: RouteTable[ChallengeService] = (
    Route("POST", "/{app_id}/challenges", challenges_create, (
        Param("leaderboard_api_name", required=True), Param("creation_type", required=True, enum=CREATION_TYPES),
        Param("visibility", required=True, enum=VISIBILITIES), *TEXTS, *DATES, FIELDS,
    ), "Challenge"),
    Route("GET", "/{app_id}/challenges", challenges, (
        Param("leaderboard_api_name"), Param("include_active_challenges", "boolean"),
        Param("include_past_challenges", "boolean"), Param("include_future_challenges", "boolean"), FIELDS,
    ), "Challenges"),
    Route("POST", "/{challenge_id}", challenge_update, (Param("visibility", enum=VISIBILITIES), *TEXTS, *DATES,
                                                        FIELDS)),
    Route("GET", "/{challenge_id}/entries", challenge_entries, (
        FIELDS, Param("filter", enum=FILTERS), Param("user_ids", "ids"),
        Param("start_at", enum=START_AT + tuple(START_AT_ALIASES)), Param("offset", "integer", minimum=0),
        Param("summary", "boolean"), Param("limit", "integer", minimum=0), Param("after", "cursor"),
        Param("before", "cursor"),
    ), "ChallengeEntries"),
    # GET/DELETE /{challenge_id}
    ObjectRoute("challenge", get=challenge_get, delete=challenge_delete, answer="Challenge"),
)
