"""Platform integrity, free of HTTP (graph-api.md A.4; docs/fidelity.md "Platform integrity").

Attestation tokens are compact JWS (``header.payload.signature``, base64url without padding) signed with
HMAC-SHA256 under a random key of the app, made on its first token and kept in the database; the key is
never shown, logged or sent. The emulator mints them (``mint``) with the claims a test chooses, the
headset's part of Meta's flow; ``verify`` checks them as ``GET /platform_integrity/verify`` does: the
signature (under the verifying app's key, so another app's token is an "invalid signature"), then the expiry
on the server clock (D36), and adds the ``device_ban`` claim when the device is banned at that moment.

Device bans belong to one app and run out on the server clock; a ban's ``ban_id`` is gone once it is lifted
or has run out (A.4). Unique-ID errors carry code 1, ban_id errors code -1, as Meta's documentation shows
(graph-api.md §0.7, contradiction 11).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from questgraph.server.auth.callers import AppCaller, Caller
from questgraph.server.clock import Clock
from questgraph.server.db.core import Database
from questgraph.server.errors import Forbidden, InvalidParameter
from questgraph.server.identity.service import IdentityService
from questgraph.server.integrity.records import DeviceBan
from questgraph.server.integrity.store import IntegrityStore

APP_STATES = ("StoreRecognized", "NotRecognized", "NotEvaluated")
DEVICE_STATES = ("Advanced", "Basic", "NotTrusted")
MAX_BAN_MINUTES = 52_560_000  # 100 years (A.4)
BAN_IDS_PAGE = 500  # device_ban_ids page size (graph-api.md §0.8)
TOKEN_TTL_SECONDS = 24 * 3600  # the documented default token lifetime (§0.8)
MAX_ATTESTATION_TTL_SECONDS = 30 * 24 * 3600
MAX_TOKEN_TEXT = 16_384  # longer is no token of ours: "invalid signature"
NONCE_TEXT = re.compile(r"[A-Za-z0-9_-]{22,172}={0,2}")  # Base64URL, 22-172 characters (§0.8)
UNIQUE_ID_TEXT = re.compile(r"[A-Za-z0-9_=-]{8,128}")
_HEADER = {"alg": "HS256", "typ": "JWT"}

INVALID_SIGNATURE = "invalid signature"
TOKEN_EXPIRED = "token expired"

# The documented errors (graph-api.md §0.7), word for word.
UNKNOWN_UNIQUE_ID = (
    "There is no record of this Unique ID. Please check that the Unique ID matches what is given in the Attestation "
    "Token and try again. Note that Unique IDs will change every 30 days for each application and device, make sure "
    "the Unique ID is up to date.")
OTHER_APP_UNIQUE_ID = ("The App ID of the Access Token does not match the Unique ID, please check the Unique ID/Access "
                       "Token and try again")
BAD_MINUTES = ("The Remaining Time In Minute field is invalid. Please check that the time inputted is between 0 and "
               f"{MAX_BAN_MINUTES}.")
UNKNOWN_BAN_ID = (
    "There is no record of this ban_id. Please check the ban_id and try again. If you don't know the specific ban_id, "
    "query the Device Ban IDs endpoint to see a list of all the ban_ids currently active for your application.")
OTHER_APP_BAN_ID = ("The App ID of the Access Token does not match the Ban ID, please check the Ban ID/Access Token "
                    "and try again")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64url(text: str) -> bytes | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _canonical(name: str, value: str | None, choices: tuple[str, ...]) -> str:
    """``value`` as one of ``choices``, in any case (D20); the first choice when absent."""
    if value is None or not value.strip():
        return choices[0]
    for choice in choices:
        if choice.lower() == value.strip().lower():
            return choice
    raise InvalidParameter(f"Param {name} must be one of {{{', '.join(choices)}}}")


def minutes_left(expires_at: int, now: int) -> int:
    return max(0, math.ceil((expires_at - now) / 60))


@dataclass(frozen=True)
class TokenRequest:
    """The claims a test chooses for a minted token; None fills a default."""

    unique_id: str | None = None
    nonce: str | None = None
    app_integrity_state: str | None = None
    device_integrity_state: str | None = None
    package_id: str | None = None
    version: str | None = None
    package_cert_sha256_digest: list[str] = field(default_factory=list)
    ttl_seconds: int | None = None


@dataclass(frozen=True)
class MintedToken:
    token: str = field(repr=False)
    claims: dict[str, Any]
    unique_id: str
    expires_at: int


@dataclass(frozen=True)
class Verdict:
    message: str  # "success", "invalid signature" or "token expired"
    claims: str | None = None  # base64url JSON, only on success


@dataclass(frozen=True)
class BanStatus:
    is_banned: bool
    remaining_time_in_minute: int


@dataclass(frozen=True)
class BanPage:
    bans: list[DeviceBan]
    has_previous: bool
    has_next: bool


class IntegrityService:
    def __init__(self, db: Database, store: IntegrityStore, clock: Clock, identity: IdentityService) -> None:
        self.db = db
        self.store = store
        self.clock = clock
        self.identity = identity

    # --- attestation tokens ------------------------------------------------------------------------
    def _key(self, app_id: int) -> bytes:
        key = self.store.signing_key(app_id)
        if key is None:
            self.store.add_signing_key(app_id, secrets.token_bytes(32))
            key = self.store.signing_key(app_id)
            assert key is not None
        return key

    def mint(self, app_id: int, wanted: TokenRequest) -> MintedToken:
        """The token the headset's attestation API would hand the app, with the chosen claims."""
        app = self.identity.app(app_id)
        ttl = TOKEN_TTL_SECONDS if wanted.ttl_seconds is None else wanted.ttl_seconds
        if not 1 <= ttl <= MAX_ATTESTATION_TTL_SECONDS:
            raise InvalidParameter(f"Param ttl_seconds must be between 1 and {MAX_ATTESTATION_TTL_SECONDS}")
        nonce = wanted.nonce or b64url(secrets.token_bytes(32))
        if not NONCE_TEXT.fullmatch(nonce):
            raise InvalidParameter("Param nonce must be Base64URL, 22 to 172 characters")
        unique_id = wanted.unique_id or b64url(secrets.token_bytes(32))
        if not UNIQUE_ID_TEXT.fullmatch(unique_id):
            raise InvalidParameter("Param unique_id must be 8 to 128 letters, digits or _ - =")
        digests = wanted.package_cert_sha256_digest
        if len(digests) > 16 or not all(re.fullmatch(r"[0-9A-Fa-f:]{1,128}", d) for d in digests):
            raise InvalidParameter("Param package_cert_sha256_digest must list at most 16 hexadecimal digests")
        for name, text in (("package_id", wanted.package_id), ("version", wanted.version)):
            if text is not None and len(text) > 256:
                raise InvalidParameter(f"Param {name} must be at most 256 characters long")
        now = self.clock.now()
        claims = {
            "request_details": {"exp": now + ttl, "nonce": nonce, "timestamp": now},
            "app_state": {
                "app_integrity_state": _canonical("app_integrity_state", wanted.app_integrity_state, APP_STATES),
                "package_cert_sha256_digest": [d.lower() for d in digests] or [hashlib.sha256(
                    f"questgraph app {app.id}".encode()).hexdigest()],
                "package_id": wanted.package_id or f"com.questgraph.app{app.id}",
                "version": wanted.version or "1.0",
            },
            "device_state": {
                "device_integrity_state": _canonical("device_integrity_state", wanted.device_integrity_state,
                                                     DEVICE_STATES),
                "unique_id": unique_id,
            },
        }
        with self.db.transaction():
            owner = self.store.device_app(unique_id)
            if owner is not None and owner != app.id:
                raise InvalidParameter("Param unique_id is a device of another app: unique ids are per app")
            self.store.add_device(unique_id, app.id, now)
            key = self._key(app.id)
        signing_input = f"{b64url(_json_bytes(_HEADER))}.{b64url(_json_bytes(claims))}"
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        return MintedToken(f"{signing_input}.{b64url(signature)}", claims, unique_id, now + ttl)

    def plant_device(self, app_id: int, unique_id: str, banned_minutes: int | None) -> None:
        """A device the app knows (the world file's ``devices``), banned for ``banned_minutes`` if given."""
        now = self.clock.now()
        with self.db.transaction():
            owner = self.store.device_app(unique_id)
            if owner is not None and owner != app_id:
                raise InvalidParameter(f"unique_id {unique_id!r} is a device of another app")
            self.store.add_device(unique_id, app_id, now)
            if banned_minutes is not None:
                self.store.put_ban(_new_ban_id(), app_id, unique_id, now, now + banned_minutes * 60)

    def verify(self, caller: Caller, token: str) -> Verdict:
        """``GET /platform_integrity/verify``: a refused token is a 200 with its message (A.4, D8)."""
        app_id = _app_caller(caller)
        parts = token.strip().split(".")
        key = self.store.signing_key(app_id)
        if len(token) > MAX_TOKEN_TEXT or len(parts) != 3 or key is None:
            return Verdict(INVALID_SIGNATURE)
        signature = _unb64url(parts[2])
        expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if signature is None or not hmac.compare_digest(signature, expected):
            return Verdict(INVALID_SIGNATURE)
        payload = _unb64url(parts[1])
        claims = None if payload is None else json.loads(payload)  # ours: signed, so well-formed
        if not isinstance(claims, dict):
            return Verdict(INVALID_SIGNATURE)
        now = self.clock.now()
        if claims["request_details"]["exp"] <= now:
            return Verdict(TOKEN_EXPIRED)
        ban = self.store.ban_of_device(claims["device_state"]["unique_id"], now)
        if ban is not None:
            claims["device_ban"] = {"is_banned": True, "remaining_ban_time": minutes_left(ban.expires_at, now)}
        return Verdict("success", base64.urlsafe_b64encode(_json_bytes(claims)).decode())

    # --- device bans -------------------------------------------------------------------------------
    def _device(self, app_id: int, unique_id: str) -> str:
        owner = self.store.device_app(unique_id) if len(unique_id) <= 1024 else None
        if owner is None:
            raise InvalidParameter(UNKNOWN_UNIQUE_ID, code=1, subcode=1614026)
        if owner != app_id:
            raise InvalidParameter(OTHER_APP_UNIQUE_ID, code=1, subcode=1614027)
        return unique_id

    def _ban(self, app_id: int, ban_id: str, now: int) -> DeviceBan:
        ban = self.store.ban_by_id(ban_id, now) if len(ban_id) <= 1024 else None
        if ban is None:
            raise InvalidParameter(UNKNOWN_BAN_ID, code=-1, subcode=1614033)
        if ban.app_id != app_id:
            raise InvalidParameter(OTHER_APP_BAN_ID, code=-1, subcode=1614036)
        return ban

    def set_ban(self, caller: Caller, unique_id: str | None, ban_id: str | None, is_banned: bool,
                minutes: int | None) -> str:
        """``POST /platform_integrity/device_ban``: the ban_id of the ban, or "" once lifted. ``ban_id``
        wins when both are given (A.4)."""
        app_id = _app_caller(caller)
        if not unique_id and not ban_id:
            raise InvalidParameter("The parameter unique_id or ban_id is required")
        if is_banned and minutes is None:
            raise InvalidParameter(BAD_MINUTES, code=1, subcode=1614028)
        now = self.clock.now()
        with self.db.transaction():
            if ban_id:
                ban = self._ban(app_id, ban_id, now)
                device = ban.unique_id
            else:
                assert unique_id is not None
                device = self._device(app_id, unique_id)
            self.store.drop_run_out(now)
            if not is_banned:
                current = self.store.ban_of_device(device, now)
                if current is not None:
                    self.store.delete_ban(current.ban_id)
                return ""
            assert minutes is not None
            return self.store.put_ban(_new_ban_id(), app_id, device, now, now + minutes * 60)

    def ban_status(self, caller: Caller, unique_id: str | None, ban_id: str | None) -> BanStatus:
        app_id = _app_caller(caller)
        now = self.clock.now()
        if ban_id:
            ban: DeviceBan | None = self._ban(app_id, ban_id, now)
        elif unique_id:
            ban = self.store.ban_of_device(self._device(app_id, unique_id), now)
        else:
            raise InvalidParameter("The parameter unique_id or ban_id is required")
        if ban is None:
            return BanStatus(False, 0)
        return BanStatus(True, minutes_left(ban.expires_at, now))

    def ban_ids(self, caller: Caller, limit: int, after: int | None, before: int | None) -> BanPage:
        """A page of the app's active bans, oldest first (``device_ban_ids``)."""
        return self.bans_of_app(_app_caller(caller), limit, after, before)

    def bans(self, app_id: int) -> list[DeviceBan]:
        """Every active ban of the app (the admin API and the dashboard); 404 for an unknown app."""
        self.identity.app(app_id)
        return self.store.active_bans(app_id, self.clock.now())

    def bans_of_app(self, app_id: int, limit: int, after: int | None, before: int | None) -> BanPage:
        now = self.clock.now()
        bans = self.store.bans_page(app_id, now, limit, after, before) if limit > 0 else []
        if not bans:
            return BanPage([], False, False)
        return BanPage(bans, self.store.has_ban_before(app_id, now, bans[0].id),
                       self.store.has_ban_after(app_id, now, bans[-1].id))


def _new_ban_id() -> str:
    """Like Meta's ``NjIxMzI3MTc0MTgzMzkzNw``: unpadded base64 of a random 16-digit number."""
    return base64.b64encode(str(secrets.randbelow(9 * 10**15) + 10**15).encode()).decode().rstrip("=")


def _app_caller(caller: Caller) -> int:
    if not isinstance(caller, AppCaller):
        raise Forbidden("The platform integrity endpoints need an app access token (OC|app_id|app_secret)")
    return caller.app.id
