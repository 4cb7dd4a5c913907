"""Plain rows as the storage layer hands them to feature code. Ids are ints inside, strings on the wire."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Org:
    id: int
    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class App:
    id: int
    org_id: int
    name: str
    secret_hash: str
    created_at: int


@dataclass(frozen=True, slots=True)
class User:
    """A person as one app sees them (D10): the app-scoped id plus the person's profile."""

    id: int
    app_id: int
    person_id: int
    alias: str
    display_name: str
    profile_url: str
    age_category: str


@dataclass(frozen=True, slots=True)
class UserToken:
    token_hash: str
    user_id: int
    app_id: int
    created_at: int
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class Leaderboard:
    id: int
    app_id: int
    api_name: str
    sort_order: str
    entry_write_policy: str
    earliest_allowed_entry_time: int | None
    latest_allowed_entry_time: int | None
    title_locale_map: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    leaderboard_id: int
    user_id: int
    score: int
    extra_data: bytes
    written_us: int

    @property
    def timestamp(self) -> int:
        return self.written_us // 1_000_000


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """A user token with its app and user, read in one query (every user-token call authenticates)."""

    token: UserToken
    app: App | None  # None when the token names an app or user that no longer exists
    user: User | None


@dataclass(frozen=True, slots=True)
class SubmitTarget:
    """What a leaderboard submit needs to know, read in one query (the hottest write: issue 6)."""

    board: Leaderboard
    user: User | None  # the user the id names, of any app; None when there is none
    entitled: bool  # that user is entitled to the board's app
    entry: Entry | None  # that user's entry on the board
