"""Control-plane endpoints of this feature (docs/config.md): the emulator side of the device SDK's
``GetUserProof`` (mint a user proof nonce) and a full view of a user's achievement progress. The routes
are in admin/routes.py."""

from __future__ import annotations

from typing import Any

from questgraph.server.achievements.service import AchievementService
from questgraph.server.graph.request import GraphRequest
from questgraph.server.users.service import UserService


def mint_nonce(users: UserService, request: GraphRequest) -> Any:
    ttl = request.params.int64("ttl_seconds", minimum=1)
    minted = users.mint_nonce(request.path_id("user_id"), ttl, request.params.get("nonce") or None)
    return {"nonce": minted.nonce, "expires_at": minted.expires_at}


def user_achievements(achievements: AchievementService, request: GraphRequest) -> Any:
    rows = achievements.all_progress(request.path_id("user_id"))
    return {"data": [
        {"id": str(s.progress.id), "api_name": s.definition.definition.api_name,
         "definition_id": str(s.definition.definition.id),
         "achievement_type": s.definition.definition.achievement_type,
         "is_archived": s.definition.definition.is_archived, "is_unlocked": s.progress.unlocked,
         "unlock_time": s.progress.unlock_time or 0, "count_progress": s.progress.count,
         "bitfield_progress": s.progress.bits}
        for s in rows
    ]}
