"""Control-plane endpoints of platform integrity (docs/config.md): mint an attestation token with chosen
claims (the headset's part of Meta's flow), and list an app's device bans. Routes in admin/routes.py."""

from __future__ import annotations

from typing import Any

from questgraph.server.graph.request import GraphRequest
from questgraph.server.integrity.service import IntegrityService, TokenRequest


def _digests(request: GraphRequest) -> list[str]:
    """``package_cert_sha256_digest``: a JSON array, a comma list, or repeated."""
    return request.params.string_list("package_cert_sha256_digest")


def mint_attestation_token(integrity: IntegrityService, request: GraphRequest) -> Any:
    params = request.params
    minted = integrity.mint(request.path_id("app_id"), TokenRequest(
        unique_id=params.get("unique_id") or None, nonce=params.get("nonce") or None,
        app_integrity_state=params.get("app_integrity_state"),
        device_integrity_state=params.get("device_integrity_state"),
        package_id=params.get("package_id") or None, version=params.get("version") or None,
        package_cert_sha256_digest=_digests(request), ttl_seconds=params.int64("ttl_seconds", minimum=1),
    ))
    return {"token": minted.token, "unique_id": minted.unique_id, "expires_at": minted.expires_at,
            "claims": minted.claims}


def list_device_bans(integrity: IntegrityService, request: GraphRequest) -> Any:
    return {"data": [{"ban_id": b.ban_id, "unique_id": b.unique_id, "created_at": b.created_at,
                      "expires_at": b.expires_at} for b in integrity.bans(request.path_id("app_id"))]}
