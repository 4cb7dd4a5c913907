"""The answer of ``AdminClient.mint_nonce``: a user proof nonce and when it expires (docs/client.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MintedNonce(str):
    """A user proof nonce (the ``str`` itself, so it can be passed on as before) with its ``expires_at``.

    ``mint_nonce`` used to return the bare nonce; this keeps every use of that string working
    (``validate_nonce(nonce, …)``, formatting, JSON) and adds ``.nonce`` and ``.expires_at`` (Unix seconds
    on the server clock, D36). Its ``repr`` never shows the nonce, a single-use secret (D11).
    """

    expires_at: int

    def __new__(cls, nonce: str, expires_at: int) -> MintedNonce:
        made = super().__new__(cls, nonce)
        made.expires_at = int(expires_at)
        return made

    @property
    def nonce(self) -> str:
        """The nonce as a plain ``str``."""
        return str.__str__(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MintedNonce:
        return cls(str(data["nonce"]), int(data["expires_at"]))

    def __repr__(self) -> str:
        return f"MintedNonce(nonce=<{len(self)} characters>, expires_at={self.expires_at})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickling keeps the expiry (str's would drop it)
        return (MintedNonce, (self.nonce, self.expires_at))
