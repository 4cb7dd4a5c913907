"""Platform integrity (graph-api.md A.4): ``GET /platform_integrity/verify`` of attestation tokens, and
device bans (``device_ban``, ``device_ban_status``, ``device_ban_ids``). App token only."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import Call, params
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint, paged
from questgraph.client._models import Page


@dataclass(frozen=True)
class AttestationVerdict:
    """What ``verify`` says of a token: ``message`` is ``success``, ``invalid signature`` or ``token expired``;
    ``claims`` the decoded claims (``request_details``, ``app_state``, ``device_state``, and ``device_ban``
    while the device is banned), only on success."""

    message: str
    claims: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.message == "success"

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> AttestationVerdict:
        row = body["data"][0]
        claims = row.get("claims")
        if claims is None:
            return cls(str(row["message"]))
        decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        return cls(str(row["message"]), decoded)


@dataclass(frozen=True)
class BanStatus:
    is_banned: bool
    remaining_time_in_minute: int

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> BanStatus:
        row = body["data"][0]
        return cls(bool(row["is_banned"]), int(row["remaining_time_in_minute"]))


@dataclass(frozen=True)
class BanRecord:
    ban_id: str
    creation_date: str  # YYYY-MM-DD


@dataclass(frozen=True)
class MintedAttestation:
    """``AdminClient.mint_attestation_token``: the token (a secret, kept out of repr), its claims and device."""

    token: str = field(repr=False)
    unique_id: str
    expires_at: int
    claims: dict[str, Any]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> MintedAttestation:
        return cls(str(body["token"]), str(body["unique_id"]), int(body["expires_at"]), dict(body["claims"]))


def _ban_page(body: Any) -> Page[BanRecord]:
    rows = [BanRecord(str(r["ban_id"]), str(r["creation_date"]))
            for block in body.get("data", []) for r in block.get("all_ban_ids", [])]
    paging = body.get("paging") or {}
    cursors = paging.get("cursors") or {}
    return Page(data=rows, before=cursors.get("before"), after=cursors.get("after"), has_next="next" in paging,
                has_previous="previous" in paging, next_url=paging.get("next"))


def _device(unique_id: str | None, ban_id: str | None) -> dict[str, str]:
    if not unique_id and not ban_id:
        raise ValueError("give unique_id or ban_id")
    return params(unique_id=unique_id, ban_id=ban_id)


class _Integrity(Group[C]):
    @endpoint
    def verify(self, token: str) -> Call[AttestationVerdict]:
        """Check an attestation token from the client; a refused token is a verdict, not an error."""
        return Call("GET", "/platform_integrity/verify", params(token=token), AttestationVerdict.from_json,
                    safe=True)

    @endpoint
    def ban_device(self, *, minutes: int, unique_id: str | None = None, ban_id: str | None = None) -> Call[str]:
        """Ban a device (or change a ban's time left) for ``minutes`` (0-52560000); returns its ban_id."""
        return Call("POST", "/platform_integrity/device_ban",
                    {**_device(unique_id, ban_id), **params(is_banned=True, remaining_time_in_minute=minutes)},
                    lambda b: str(b["ban_id"]), safe=True)

    @endpoint
    def lift_ban(self, *, unique_id: str | None = None, ban_id: str | None = None) -> Call[None]:
        """Lift a device's ban. Not retried: a repeat after a lost answer would not know the ban_id."""
        return Call("POST", "/platform_integrity/device_ban", {**_device(unique_id, ban_id), **params(is_banned=False)},
                    lambda b: None)

    @endpoint
    def ban_status(self, *, unique_id: str | None = None, ban_id: str | None = None) -> Call[BanStatus]:
        return Call("GET", "/platform_integrity/device_ban_status", _device(unique_id, ban_id), BanStatus.from_json,
                    safe=True)

    @endpoint
    def ban_ids_page(self, *, limit: int | None = None, after: str | None = None,
                     before: str | None = None) -> Call[Page[BanRecord]]:
        """One page of the app's active bans, oldest first (at most 500)."""
        return Call("GET", "/platform_integrity/device_ban_ids", params(limit=limit, after=after, before=before),
                    _ban_page, safe=True)

    @paged
    def ban_ids(self, *, limit: int | None = None) -> Call[Page[BanRecord]]:
        """Every active ban of the app, following ``paging.next``."""
        return _Integrity.ban_ids_page.build(self, limit=limit)


class Integrity(_Integrity[Client]):
    """``client.integrity``: attestation verification and device bans."""


class AsyncIntegrity(_Integrity[AsyncClient]):
    """``AsyncClient.integrity``: the methods of ``Integrity``, awaited."""
