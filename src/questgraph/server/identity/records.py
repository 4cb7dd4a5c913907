"""Identity's rows (orgs, apps, people, app- and org-scoped users, user tokens) as its store hands them
to feature code. Ids are ints inside, strings on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


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


class User(NamedTuple):
    """A person as one app sees them (D10): the app-scoped id plus the person's profile. A NamedTuple, as
    leaderboards' Entry is: a page builds 25 of them."""

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
class TokenHolder:
    """A user token with its app and user, read in one query (every user-token call authenticates)."""

    token: UserToken
    app: App | None  # None when the token names an app or user that no longer exists
    user: User | None


@dataclass(frozen=True, slots=True)
class Person:
    """The profile behind every app- and org-scoped id (D10)."""

    id: int
    alias: str
    display_name: str
    profile_url: str
    age_category: str


@dataclass(frozen=True, slots=True)
class OrgMember:
    """A person as one organization sees them: their org-scoped id (D10)."""

    org_scoped_id: int
    org_id: int
    person: Person
