"""Typed results. Ids are strings (as on the wire, D9); extra data is bytes (decoded from base64, D18).

A field the request did not select (``fields``, D5) or the server left out (a board without a time
window) is ``None``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

SortOrder = Literal["HIGHER_IS_BETTER", "LOWER_IS_BETTER"]
WritePolicy = Literal["CLIENT_AUTHORITATIVE", "SERVER_AUTHORITATIVE"]
StartAt = Literal["TOP", "OFFSET", "CENTERED_ON_VIEWER", "CENTERED_ON_VIEWER_OR_TOP"]
EntryFilter = Literal["NONE", "FRIENDS", "USER_IDS"]
AgeCategory = Literal["AD", "TN", "CH"]

# Every field the client can select, so a typo is a type error rather than a 400 at run time.
LeaderboardField = Literal["id", "api_name", "sort_order", "entry_write_policy", "entry_count",
                           "earliest_allowed_entry_time", "latest_allowed_entry_time", "title", "title_locale_map"]
EntryField = Literal["id", "user", "rank", "score", "timestamp", "extra_data_base64"]
UserField = Literal["id", "alias", "display_name", "profile_url"]

LEADERBOARD_FIELDS: tuple[LeaderboardField, ...] = (
    "id", "api_name", "sort_order", "entry_write_policy", "entry_count", "earliest_allowed_entry_time",
    "latest_allowed_entry_time", "title", "title_locale_map")
ENTRY_FIELDS: tuple[EntryField, ...] = ("id", "user", "rank", "score", "timestamp", "extra_data_base64")
USER_FIELDS: tuple[UserField, ...] = ("id", "alias", "display_name", "profile_url")


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class User:
    """A user as the Graph API shows them (app-scoped ``id``)."""

    id: str
    alias: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    org_scoped_id: str | None = None  # GET /{user_id} only

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        org = data.get("org_scoped_id")
        return cls(id=str(data["id"]), alias=data.get("alias"), display_name=data.get("display_name"),
                   profile_url=data.get("profile_url"), org_scoped_id=None if org is None else str(org))


@dataclass(frozen=True)
class Leaderboard:
    """A leaderboard's metadata (graph-api.md §1.3)."""

    id: str
    api_name: str | None = None
    sort_order: str | None = None
    entry_write_policy: str | None = None
    entry_count: int | None = None
    earliest_allowed_entry_time: int | None = None
    latest_allowed_entry_time: int | None = None
    title: str | None = None
    title_locale_map: dict[str, str] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Leaderboard:
        return cls(
            id=str(data["id"]), api_name=data.get("api_name"), sort_order=data.get("sort_order"),
            entry_write_policy=data.get("entry_write_policy"), entry_count=_opt_int(data.get("entry_count")),
            earliest_allowed_entry_time=_opt_int(data.get("earliest_allowed_entry_time")),
            latest_allowed_entry_time=_opt_int(data.get("latest_allowed_entry_time")),
            title=data.get("title"), title_locale_map=data.get("title_locale_map"),
        )


@dataclass(frozen=True)
class LeaderboardEntry:
    """One ranked entry (graph-api.md §1.4). ``id`` is the entry id that ``delete_entry`` takes."""

    id: str
    user: User | None = None
    rank: int | None = None
    score: int | None = None
    timestamp: int | None = None
    extra_data: bytes | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LeaderboardEntry:
        user = data.get("user")
        extra = data.get("extra_data_base64")
        return cls(
            id=str(data["id"]), user=User.from_json(user) if isinstance(user, dict) else None,
            rank=_opt_int(data.get("rank")), score=_opt_int(data.get("score")),
            timestamp=_opt_int(data.get("timestamp")), extra_data=None if extra is None else decode_base64(extra),
        )


@dataclass(frozen=True)
class EntriesPage:
    """One page of ``leaderboard_entries``: rows, the optional total, and the keyset cursors (D21)."""

    entries: list[LeaderboardEntry]
    total_count: int | None = None
    before: str | None = None  # cursor of the first row
    after: str | None = None  # cursor of the last row
    has_next: bool = False
    has_previous: bool = False
    next_url: str | None = field(default=None, repr=False)  # embeds the access token: kept out of repr


@dataclass(frozen=True)
class SubmitResult:
    """The answer of ``leaderboard_submit_entry`` (D15): ``did_update`` is False for a score not better."""

    success: bool
    did_update: bool
    updated_challenge_ids: list[str]


# --- admin API (docs/config.md) ------------------------------------------------------------------------
@dataclass(frozen=True)
class AdminApp:
    """An app as the admin API shows it (never its secret)."""

    id: str
    org_id: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AdminApp:
        return cls(id=str(data["id"]), org_id=str(data["org_id"]), name=str(data["name"]))


@dataclass(frozen=True)
class AppCredentials:
    """An app with its secret: the answer of app creation and secret rotation, shown once (D12)."""

    id: str
    org_id: str
    name: str
    secret: str = field(repr=False)
    app_access_token: str = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppCredentials:
        return cls(id=str(data["id"]), org_id=str(data["org_id"]), name=str(data["name"]),
                   secret=str(data["secret"]), app_access_token=str(data["app_access_token"]))


@dataclass(frozen=True)
class Org:
    """An organization, with its apps and SSO redirect URIs when listed."""

    id: str
    name: str
    apps: list[AdminApp] = field(default_factory=list)
    sso_redirect_uris: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Org:
        return cls(id=str(data["id"]), name=str(data["name"]),
                   apps=[AdminApp.from_json(a) for a in data.get("apps", [])],
                   sso_redirect_uris=[str(u) for u in data.get("sso_redirect_uris", [])])


@dataclass(frozen=True)
class AdminUser:
    """A user of an app as the admin API shows it (docs/config.md)."""

    id: str
    app_id: str
    alias: str
    display_name: str
    profile_url: str
    age_category: str
    org_scoped_id: str
    entitled: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AdminUser:
        return cls(id=str(data["id"]), app_id=str(data["app_id"]), alias=str(data["alias"]),
                   display_name=str(data["display_name"]), profile_url=str(data["profile_url"]),
                   age_category=str(data["age_category"]), org_scoped_id=str(data["org_scoped_id"]),
                   entitled=bool(data["entitled"]))


@dataclass(frozen=True)
class ClockState:
    """The emulator clock (D36): ``now`` in Unix seconds and the offset from the wall clock."""

    now: int
    offset_seconds: float


def decode_base64(value: str) -> bytes:
    """Standard or URL-safe base64, padding optional (what the server accepts, D18)."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("extra_data_base64 is not valid base64") from None


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def id_str(value: int | str, name: str) -> str:
    """An object id for the wire: an int or a string of digits (D9), sent as a string."""
    text = str(value).strip() if isinstance(value, str) else str(value)
    if isinstance(value, bool) or not text.isdigit():
        raise ValueError(f"{name} must be a decimal id (an int or a string of digits), got {value!r}")
    return text

