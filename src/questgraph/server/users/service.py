"""Users and user verification, free of HTTP (graph-api.md §4, D8, D10, D33): the user node for an app
token, ``/me`` for a user token or an SSO link, and single-use user proof nonces (what the headset's
``GetUserProof`` returns, minted here by the control plane) checked by ``user_nonce_validate``.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from questgraph.server.auth.callers import AnyCaller, AppCaller, Caller, LinkCaller, UserCaller
from questgraph.server.auth.secrets import digest
from questgraph.server.clock import Clock
from questgraph.server.errors import Forbidden, InvalidParameter, NotFound
from questgraph.server.identity.records import User
from questgraph.server.identity.service import IdentityService
from questgraph.server.identity.store import IdentityStore
from questgraph.server.users.records import UserNonce
from questgraph.server.users.store import UserStore

NONCE_TTL_SECONDS = 300  # a user proof lives 5 minutes on the server clock (D36; docs/fidelity.md D8)
MAX_NONCE_TTL_SECONDS = 30 * 24 * 3600
NONCE_LENGTH = 64
MAX_NONCE_TEXT = 1024  # longer is no nonce of ours: is_valid false, never a 4xx (D8)
_ALNUM = string.ascii_letters + string.digits
MIN_CHOSEN_NONCE = 16
# A nonce whose text is chosen (the world file's, or the admin API's ``nonce``): letters, digits and the
# characters of base64 and base64url, what a proof from a headset looks like, and nothing a TOML editor or
# a shell could silently change (spaces, line ends).
CHOSEN_NONCE_TEXT = re.compile(rf"[A-Za-z0-9._~+/=-]{{{MIN_CHOSEN_NONCE},{MAX_NONCE_TEXT}}}")


@dataclass(frozen=True)
class LinkedPerson:
    """The person behind an SSO oauth_token, as ``/me`` shows them (D33)."""

    org_scoped_id: int
    alias: str


@dataclass(frozen=True)
class ShownUser:
    user: User
    org_scoped_id: int | None


@dataclass(frozen=True)
class MintedNonce:
    nonce: str  # shown once; only its digest is stored (D11)
    expires_at: int


class UserService:
    def __init__(self, store: UserStore, identity_store: IdentityStore, clock: Clock,
                 identity: IdentityService) -> None:
        self.store = store
        self.identity_store = identity_store
        self.clock = clock
        self.identity = identity
        # Set by the federation feature: ``/me``'s answer for a user token of a federated user (A.2),
        # called as (request, user) and returning None for any other user.
        self.me_override: Callable[..., dict[str, Any] | None] | None = None

    def _shown(self, user: User) -> ShownUser:
        app = self.identity_store.get_app(user.app_id)
        org_scoped = None if app is None else self.identity_store.get_org_scoped_id(app.org_id, user.person_id)
        return ShownUser(user, org_scoped)

    def user_node(self, caller: Caller, user_id: int) -> ShownUser:
        """``GET /{user_id}`` (§4.2): a user of the token's app. A user token may read only itself."""
        user = self.identity_store.get_user(user_id)
        if user is None:
            raise NotFound(f"Object with ID '{user_id}' does not exist")
        if user.app_id != caller.app.id:
            raise Forbidden("The access token belongs to another app")
        if isinstance(caller, UserCaller) and caller.user.id != user.id:
            raise Forbidden("A user access token may read only its own user; use an app access token")
        return self._shown(user)

    def me(self, caller: AnyCaller) -> ShownUser | LinkedPerson:
        """``GET /me`` (§4.3): the user behind a user token, or the person behind an SSO link (D33)."""
        if isinstance(caller, LinkCaller):
            alias = self.identity_store.get_person_alias(caller.person_id)
            if alias is None:
                raise NotFound("The person of this account link does not exist")
            return LinkedPerson(caller.org_scoped_id, alias)
        if isinstance(caller, AppCaller):
            raise Forbidden("An active access token must be used to query information about the current user: "
                            "/me needs a user access token, not an app access token")
        return self._shown(caller.user)

    # --- user proof nonces (§4.1) -------------------------------------------------------------------
    def mint_nonce(self, user_id: int, ttl_seconds: int | None = None, nonce: str | None = None) -> MintedNonce:
        """What ``Users.GetUserProof()`` would return on the headset: a random single-use nonce, or the
        ``nonce`` given (so a test can name it in advance, as the world file's nonces)."""
        user = self.identity.user(user_id)
        ttl = NONCE_TTL_SECONDS if ttl_seconds is None else ttl_seconds
        if not 1 <= ttl <= MAX_NONCE_TTL_SECONDS:
            raise InvalidParameter(f"Param ttl_seconds must be between 1 and {MAX_NONCE_TTL_SECONDS}")
        now = self.clock.now()
        if nonce is None:
            nonce = "".join(secrets.choice(_ALNUM) for _ in range(NONCE_LENGTH))
            self.store.insert_user_nonce(UserNonce(digest(nonce), user.id, user.app_id, now, now + ttl))
            return MintedNonce(nonce, now + ttl)
        # The nonce is a secret: no message repeats it (D11).
        if not CHOSEN_NONCE_TEXT.fullmatch(nonce):
            raise InvalidParameter(f"Param nonce must be {MIN_CHOSEN_NONCE} to {MAX_NONCE_TEXT} letters, digits "
                                   "or . _ ~ + / = -")
        if not self.store.insert_chosen_user_nonce(UserNonce(digest(nonce), user.id, user.app_id, now, now + ttl)):
            raise InvalidParameter("Param nonce is already a nonce (used or not): choose another")
        return MintedNonce(nonce, now + ttl)

    def validate_nonce(self, caller: Caller, nonce: str, user_id: int) -> bool:
        """True once for a live nonce of this user and app; every other "no" is False, not an error (D8).

        The nonce is looked up by its SHA-256 digest (so no comparison of secrets happens in Python) and
        spent by one conditional update, so two racing validations cannot both succeed.
        """
        if not isinstance(caller, AppCaller):
            raise Forbidden("user_nonce_validate needs an app access token (OC|app_id|app_secret)")
        if not nonce or len(nonce) > MAX_NONCE_TEXT:
            return False
        user = self.identity_store.get_user(user_id)
        # A user who does not own the app is "not set up" for it: Meta answers false then (§4.1).
        if user is None or user.app_id != caller.app.id or not self.identity_store.is_entitled(user.id, user.app_id):
            return False
        return self.store.use_user_nonce(digest(nonce), user.id, caller.app.id, self.clock.now())
