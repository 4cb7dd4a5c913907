"""Random secrets and tokens (at least 128 bits, D11), their hashes, and constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALNUM = string.ascii_letters + string.digits
USER_TOKEN_LENGTH = 96  # characters after the "OC" prefix: ~571 bits


def new_app_secret() -> str:
    """32 hex characters (128 bits), the shape of Meta's app secrets."""
    return secrets.token_hex(16)


def new_user_token() -> str:
    return "OC" + "".join(secrets.choice(_ALNUM) for _ in range(USER_TOKEN_LENGTH))


def new_object_id() -> int:
    """A random 16-digit object id (D9)."""
    return 10**15 + secrets.randbelow(9 * 10**15)


def digest(value: str) -> str:
    """How secrets and tokens are stored: only their SHA-256. They are random and long, so a fast hash
    is enough (no dictionary to attack), and lookups by hash stay O(1)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def matches(value: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(value), stored_digest)


def hint(value: str) -> str:
    """What may be shown of a secret after it was made: its last four characters."""
    return "…" + value[-4:]
