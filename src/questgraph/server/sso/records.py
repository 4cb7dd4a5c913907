"""Account-linking records (D30-D35), as ``sso/store.py`` hands them to the service.

Secrets never reach this layer in the clear: sessions, codes, oauth_tokens and refresh codes are keyed by
their SHA-256 digest (D11), passwords are scrypt strings. Single use is the backend's job: ``use_code`` and
``use_refresh_code`` are conditional updates that succeed for exactly one caller, even across processes.
"""

from __future__ import annotations

from dataclasses import dataclass


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
