"""The user proof nonces of user verification (graph-api.md §4.1, D8), as ``users/store.py`` hands them to
the service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserNonce:
    nonce_hash: str  # SHA-256 of the nonce; the nonce itself is never stored (D11)
    user_id: int
    app_id: int
    created_at: int
    expires_at: int
