"""User proof nonces declared in the world file (``nonces`` of ``[[users.apps]]``, docs/config.md).

They are what ``POST /_admin/users/{user_id}/nonces`` mints, with the text chosen by the world's author so
that a test or the demo can name it in advance: stored only as a SHA-256 digest (D11), single use and
expiring on the server clock (D8, D36), ``ttl_seconds`` after the world is applied (300 by default, as the
admin API). Checked without a database; errors are ``ValueError`` with a message naming the item (never the
nonce, which is a secret); ``world.py`` turns them into ``WorldError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from questgraph.server.auth.secrets import digest
from questgraph.server.clock import Clock
from questgraph.server.users.records import UserNonce
from questgraph.server.users.service import (
    CHOSEN_NONCE_TEXT,
    MAX_NONCE_TEXT,
    MAX_NONCE_TTL_SECONDS,
    MIN_CHOSEN_NONCE,
    NONCE_TTL_SECONDS,
)
from questgraph.server.users.store import UserStore
from questgraph.server.world_checks import check_known_keys

NONCE_KEYS = ("nonce", "ttl_seconds")
MIN_WORLD_NONCE = MIN_CHOSEN_NONCE


@dataclass(frozen=True)
class NonceSpec:
    where: str
    nonce: str = field(repr=False)  # never in a repr, a log or an error (D11)
    ttl_seconds: int


def world_nonces(raw: Any, where: str, seen: dict[str, str]) -> list[NonceSpec]:
    """``nonces = ["…", { nonce = "…", ttl_seconds = 86400 }]``; ``seen`` maps the digest of every nonce
    declared so far in the world to where, because a nonce is one row keyed by its digest (D8)."""
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be a list")
    nonces = []
    for n, value in enumerate(raw):
        nonce_where = f"{where}[{n}]"
        if isinstance(value, str):
            value = {"nonce": value}
        if not isinstance(value, dict):
            raise ValueError(f"{nonce_where}: must be a nonce (a string) or a table {{ nonce = …, ttl_seconds = … }}")
        check_known_keys(value, nonce_where, NONCE_KEYS)
        text = value.get("nonce")
        if not isinstance(text, str) or not CHOSEN_NONCE_TEXT.fullmatch(text):
            raise ValueError(f"{nonce_where}: a nonce must be a string of {MIN_WORLD_NONCE} to {MAX_NONCE_TEXT} "
                             "letters, digits or . _ ~ + / = -")
        ttl = value.get("ttl_seconds", NONCE_TTL_SECONDS)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_NONCE_TTL_SECONDS:
            raise ValueError(f"{nonce_where}: ttl_seconds must be an integer from 1 to {MAX_NONCE_TTL_SECONDS}")
        key = digest(text)
        if key in seen:
            raise ValueError(f"{nonce_where}: the same nonce is already given to {seen[key]}")
        seen[key] = nonce_where
        nonces.append(NonceSpec(nonce_where, text, ttl))
    return nonces


def plant_nonce(store: UserStore, clock: Clock, user_id: int, app_id: int, spec: NonceSpec) -> None:
    """Store a declared nonce as the admin API stores a minted one: its digest, live for ``ttl_seconds``
    from now on the server clock (D36)."""
    now = clock.now()
    store.insert_user_nonce(UserNonce(digest(spec.nonce), user_id, app_id, now, now + spec.ttl_seconds))
