"""Admin API of challenges (docs/config.md): list, create and delete an app's challenges, whatever their
dates or visibility. The routes are in admin/routes.py."""

from __future__ import annotations

from typing import Any

from questgraph.server.auth.callers import AppCaller
from questgraph.server.challenges.records import Challenge
from questgraph.server.challenges.service import VISIBILITIES, ChallengeService, iso_date
from questgraph.server.challenges.views import date_param, text_param
from questgraph.server.graph.request import GraphRequest, require_param


def challenge_view(service: ChallengeService, challenge: Challenge) -> dict[str, Any]:
    board = service.board_of(challenge)
    return {
        "id": str(challenge.id), "app_id": str(challenge.app_id), "leaderboard_id": str(board.id),
        "leaderboard_api_name": board.api_name, "title": challenge.title, "description": challenge.description,
        "visibility": challenge.visibility, "creation_type": challenge.creation_type,
        "start_date": iso_date(challenge.start_date), "end_date": iso_date(challenge.end_date),
        "state": service.state(challenge), "entry_count": len(service.participants(challenge)),
    }


def list_challenges(service: ChallengeService, request: GraphRequest) -> Any:
    app_id = request.path_id("app_id")
    service.identity.app(app_id)  # an unknown app is a 404
    return {"data": [challenge_view(service, c) for c in service.of_app(app_id)]}


def create_challenge(service: ChallengeService, request: GraphRequest) -> Any:
    params = request.params
    app_id = request.path_id("app_id")
    challenge, _ = service.create(
        AppCaller(service.identity.app(app_id)), app_id, require_param(request, "leaderboard_api_name"),
        "DEVELOPER_CREATED", params.enum("visibility", VISIBILITIES, default="PUBLIC") or "PUBLIC",
        text_param(params, "title"), text_param(params, "description"), date_param(params, "start_date"),
        date_param(params, "end_date"),
    )
    return challenge_view(service, challenge)


def delete_challenge(service: ChallengeService, request: GraphRequest) -> Any:
    service.delete_any(request.path_id("challenge_id"))
    return {"success": True}
