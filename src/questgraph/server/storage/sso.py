"""Account-linking storage (D30-D35): records and the protocol every backend implements.

Secrets never reach this layer in the clear: sessions, codes, oauth_tokens and refresh codes are keyed by
their SHA-256 digest (D11), passwords are scrypt strings. Single use is the backend's job: ``use_code`` and
``use_refresh_code`` are conditional updates that succeed for exactly one caller, even across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


@dataclass(frozen=True, slots=True)
class SsoSession:
    session_hash: str
    person_id: int | None  # None until the browser has signed in
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class SsoCode:
    code_hash: str
    org_id: int
    org_scoped_id: int
    person_id: int
    redirect_uri: str
    created_at: int
    expires_at: int
    used_at: int | None
    link_id: int | None  # the link its exchange created (revoked if the code is presented again, D32)


@dataclass(frozen=True, slots=True)
class SsoLink:
    """One grant: a code exchange and every oauth_token and refresh code issued from it (D32-D34)."""

    id: int
    org_id: int
    org_scoped_id: int
    person_id: int
    app_id: int
    created_at: int
    refreshed_at: int | None
    revoked_at: int | None
    revoked_why: str | None


@dataclass(frozen=True, slots=True)
class SsoToken:
    token_hash: str
    link_id: int
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class SsoRefreshCode:
    code_hash: str
    link_id: int
    created_at: int
    used_at: int | None


class SsoStore(Protocol):
    # --- people as the SSO page sees them ---------------------------------------------------------
    def get_person(self, person_id: int) -> Person | None: ...
    def find_org_member(self, org_scoped_id: int) -> OrgMember | None: ...
    def list_org_members(self, org_id: int, limit: int) -> list[OrgMember]: ...

    # --- passwords and sign-in rate limits --------------------------------------------------------
    def set_password_hash(self, person_id: int, password_hash: str, now: int) -> None: ...
    def get_password_hash(self, person_id: int) -> str | None: ...
    def add_login_failure(self, subject: str, at: int) -> None: ...
    def count_login_failures(self, subject: str, since: int) -> int: ...
    def clear_login_failures(self, subject: str) -> None: ...
    def prune_login_failures(self, before: int) -> None: ...

    # --- browser sessions -------------------------------------------------------------------------
    def insert_sso_session(self, session: SsoSession) -> None: ...
    def get_sso_session(self, session_hash: str) -> SsoSession | None: ...
    def delete_sso_session(self, session_hash: str) -> None: ...
    def prune_sso_sessions(self, now: int) -> None: ...

    # --- codes, links, tokens ---------------------------------------------------------------------
    def insert_sso_code(self, code: SsoCode) -> None: ...
    def get_sso_code(self, code_hash: str) -> SsoCode | None: ...
    def use_sso_code(self, code_hash: str, now: int) -> bool:
        """Mark the code used; True for exactly one caller (a conditional update, D32)."""
        ...

    def set_sso_code_link(self, code_hash: str, link_id: int) -> None: ...
    def insert_sso_link(self, link: SsoLink) -> None: ...
    def get_sso_link(self, link_id: int) -> SsoLink | None: ...
    def list_sso_links(self, person_id: int) -> list[SsoLink]: ...
    def revoke_sso_link(self, link_id: int, now: int, why: str) -> bool:
        """Revoke the link and so every token of it; True when it was active."""
        ...

    def touch_sso_link(self, link_id: int, now: int) -> None: ...
    def insert_sso_token(self, token: SsoToken) -> None: ...
    def get_sso_token(self, token_hash: str) -> SsoToken | None: ...
    def count_live_sso_tokens(self, link_id: int, now: int) -> int: ...
    def insert_sso_refresh_code(self, code: SsoRefreshCode) -> None: ...
    def get_sso_refresh_code(self, code_hash: str) -> SsoRefreshCode | None: ...
    def use_sso_refresh_code(self, code_hash: str, now: int) -> bool:
        """Mark the refresh code used; True for exactly one caller (rotation, D34)."""
        ...
