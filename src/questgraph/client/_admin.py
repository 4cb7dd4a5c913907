"""The admin API of a questgraph server (``/_admin``, docs/config.md): orgs, apps and secrets, SSO redirect
URIs, users, tokens, nonces, entitlements, friends, reset, snapshots, the emulator clock (D36), a user's
achievement progress, the IAP catalogue, grants and purchase history, and account links and SSO passwords.

Meta has no such API; this is for setting up and inspecting a questgraph server from scripts and tests.
``AdminCalls`` builds the calls; ``AdminClient`` / ``AsyncAdminClient`` send them with the admin key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import DEFAULT_TIMEOUT, Call, params
from questgraph.client._client import Client
from questgraph.client._models import (
    AccountLink,
    AdminApp,
    AdminProgress,
    AdminUser,
    AgeCategory,
    AppCredentials,
    CatalogueItem,
    ClockState,
    ItemType,
    Org,
    PurchaseRecord,
    Term,
    TrialType,
    id_str,
)
from questgraph.client._nonce import MintedNonce
from questgraph.client._retry import RetryPolicy

Id = int | str
LOCAL_URL = "http://127.0.0.1:8080"  # where `questgraph serve` listens by default


def _ok(body: Any) -> None:
    if not (isinstance(body, dict) and body.get("success") is True):
        raise ValueError(f"unexpected answer: {body!r}")


def _uris(body: Any) -> list[str]:
    return [str(u) for u in body["data"]]


def _clock(body: Any) -> ClockState:
    return ClockState(now=int(body["now"]), offset_seconds=float(body["offset_seconds"]))


class AdminCalls:
    """Admin calls built without I/O. ``safe`` marks those whose repeat leaves the same state."""

    @staticmethod
    def orgs() -> Call[list[Org]]:
        return Call("GET", "/_admin/orgs", {}, lambda b: [Org.from_json(o) for o in b["data"]], safe=True)

    @staticmethod
    def create_org(name: str, id: Id | None) -> Call[Org]:
        # Not repeated without an id: a repeat would make a second organization.
        return Call("POST", "/_admin/orgs", params(name=name, id=None if id is None else id_str(id, "id")),
                    Org.from_json, safe=False)

    @staticmethod
    def create_app(org_id: Id, name: str, id: Id | None, secret: str | None) -> Call[AppCredentials]:
        return Call("POST", f"/_admin/orgs/{id_str(org_id, 'org_id')}/apps",
                    params(name=name, id=None if id is None else id_str(id, "id"), secret=secret),
                    AppCredentials.from_json)

    @staticmethod
    def get_app(app_id: Id) -> Call[AdminApp]:
        return Call("GET", f"/_admin/apps/{id_str(app_id, 'app_id')}", {}, AdminApp.from_json, safe=True)

    @staticmethod
    def rotate_secret(app_id: Id, secret: str | None) -> Call[AppCredentials]:
        # A repeat of a random rotation would make a secret nobody saw: only a chosen secret is safe.
        return Call("POST", f"/_admin/apps/{id_str(app_id, 'app_id')}/secret", params(secret=secret),
                    AppCredentials.from_json, safe=secret is not None)

    @staticmethod
    def redirect_uris(org_id: Id) -> Call[list[str]]:
        return Call("GET", f"/_admin/orgs/{id_str(org_id, 'org_id')}/redirect_uris", {}, _uris, safe=True)

    @staticmethod
    def add_redirect_uri(org_id: Id, redirect_uri: str) -> Call[list[str]]:
        return Call("POST", f"/_admin/orgs/{id_str(org_id, 'org_id')}/redirect_uris",
                    params(redirect_uri=redirect_uri), _uris, safe=True)  # registering twice is harmless

    @staticmethod
    def users(app_id: Id) -> Call[list[AdminUser]]:
        return Call("GET", f"/_admin/apps/{id_str(app_id, 'app_id')}/users", {},
                    lambda b: [AdminUser.from_json(u) for u in b["data"]], safe=True)

    @staticmethod
    def create_user(app_id: Id, alias: str, *, display_name: str | None, profile_url: str | None,
                    age_category: AgeCategory | None, id: Id | None, org_scoped_id: Id | None,
                    entitled: bool | None) -> Call[AdminUser]:
        # Joining an app twice answers the same user (docs/config.md): safe to repeat.
        return Call("POST", f"/_admin/apps/{id_str(app_id, 'app_id')}/users", params(
            alias=alias, display_name=display_name, profile_url=profile_url, age_category=age_category,
            id=None if id is None else id_str(id, "id"),
            org_scoped_id=None if org_scoped_id is None else id_str(org_scoped_id, "org_scoped_id"),
            entitled=entitled), AdminUser.from_json, safe=True)

    @staticmethod
    def get_user(user_id: Id) -> Call[AdminUser]:
        return Call("GET", f"/_admin/users/{id_str(user_id, 'user_id')}", {}, AdminUser.from_json, safe=True)

    @staticmethod
    def mint_token(user_id: Id, ttl_seconds: int | None, token: str | None) -> Call[str]:
        # A chosen token minted twice answers it again; a random one would mint a second token.
        return Call("POST", f"/_admin/users/{id_str(user_id, 'user_id')}/tokens",
                    params(ttl_seconds=ttl_seconds, token=token), lambda b: str(b["access_token"]),
                    safe=token is not None)

    @staticmethod
    def mint_nonce(user_id: Id, ttl_seconds: int | None) -> Call[MintedNonce]:
        # Each call mints a new nonce: not repeated.
        return Call("POST", f"/_admin/users/{id_str(user_id, 'user_id')}/nonces", params(ttl_seconds=ttl_seconds),
                    MintedNonce.from_json)

    @staticmethod
    def grant_entitlement(user_id: Id) -> Call[None]:
        return Call("POST", f"/_admin/users/{id_str(user_id, 'user_id')}/entitlements", {}, _ok, safe=True)

    @staticmethod
    def add_friend(user_id: Id, friend_id: Id) -> Call[None]:
        return Call("POST", f"/_admin/users/{id_str(user_id, 'user_id')}/friends",
                    params(friend_id=id_str(friend_id, "friend_id")), _ok, safe=True)

    @staticmethod
    def reset(empty: bool) -> Call[None]:
        return Call("POST", "/_admin/reset", params(empty=empty), _ok, safe=True)

    @staticmethod
    def export_snapshot() -> Call[dict[str, Any]]:
        return Call("GET", "/_admin/snapshot", {}, dict, safe=True)

    @staticmethod
    def import_snapshot(snapshot: Mapping[str, Any]) -> Call[None]:
        return Call("POST", "/_admin/snapshot", params(version=snapshot.get("version"), tables=snapshot.get("tables")),
                    _ok, safe=True)

    @staticmethod
    def clock() -> Call[ClockState]:
        return Call("GET", "/_admin/clock", {}, _clock, safe=True)

    @staticmethod
    def move_clock(advance_seconds: int | None, set: int | None) -> Call[ClockState]:
        # Advancing twice moves twice; setting twice lands on the same instant.
        return Call("POST", "/_admin/clock", params(advance_seconds=advance_seconds, set=set), _clock,
                    safe=set is not None)


class FeatureAdminCalls:
    """Admin calls of achievements, commerce and account linking (docs/config.md), built without I/O."""

    @staticmethod
    def user_achievements(user_id: Id) -> Call[list[AdminProgress]]:
        return Call("GET", f"/_admin/users/{id_str(user_id, 'user_id')}/achievements", {},
                    lambda b: [AdminProgress.from_json(r) for r in b["data"]], safe=True)

    @staticmethod
    def items(app_id: Id) -> Call[list[CatalogueItem]]:
        return Call("GET", f"/_admin/apps/{id_str(app_id, 'app_id')}/items", {},
                    lambda b: [CatalogueItem.from_json(r) for r in b["data"]], safe=True)

    @staticmethod
    def create_item(app_id: Id, sku: str, type: ItemType, name: str, *, description: str | None,
                    price: int | None, currency: str | None, subscription_term: Term | None,
                    trial_type: TrialType | None, trial_term: Term | None, trial_max_term_count: int | None,
                    trial_price: int | None) -> Call[CatalogueItem]:
        # Not repeated: a sku already in the catalogue is a 400, so a repeat would turn success into an error.
        return Call("POST", f"/_admin/apps/{id_str(app_id, 'app_id')}/items", params(
            sku=sku, type=type, name=name, description=description, price=price, currency=currency,
            subscription_term=subscription_term, trial_type=trial_type, trial_term=trial_term,
            trial_max_term_count=trial_max_term_count, trial_price=trial_price), CatalogueItem.from_json)

    @staticmethod
    def grant_item(user_id: Id, sku: str, expires_at: int | None, trial: bool | None) -> Call[PurchaseRecord]:
        # Not repeated: an item still owned cannot be granted again (400), and a consumable consumed in
        # between would be granted twice.
        return Call("POST", f"/_admin/users/{id_str(user_id, 'user_id')}/purchases",
                    params(sku=sku, expires_at=expires_at, trial=trial), PurchaseRecord.from_json)

    @staticmethod
    def purchases(user_id: Id) -> Call[list[PurchaseRecord]]:
        return Call("GET", f"/_admin/users/{id_str(user_id, 'user_id')}/purchases", {},
                    lambda b: [PurchaseRecord.from_json(r) for r in b["data"]], safe=True)

    @staticmethod
    def links(user_id: Id) -> Call[list[AccountLink]]:
        return Call("GET", f"/_admin/users/{id_str(user_id, 'user_id')}/links", {},
                    lambda b: [AccountLink.from_json(r) for r in b["data"]], safe=True)

    @staticmethod
    def revoke_link(link_id: Id) -> Call[AccountLink]:
        # Revoking a revoked link leaves it revoked: safe to repeat.
        return Call("POST", f"/_admin/links/{id_str(link_id, 'link_id')}/revoke", {},
                    lambda b: AccountLink.from_json(b["link"]), safe=True)

    @staticmethod
    def set_password(user_id: Id, password: str) -> Call[None]:
        return Call("POST", f"/_admin/users/{id_str(user_id, 'user_id')}/password", params(password=password), _ok,
                    safe=True)  # setting the same password twice leaves the same state


class AdminClient:
    """The admin API of a questgraph server, with its admin key (``Authorization: Bearer``).

    >>> admin = AdminClient("http://127.0.0.1:8080", admin_key="demo-admin-key")
    >>> app = admin.create_app(admin.create_org("Studio").id, "Game")
    >>> app.app_access_token          # shown once (D12)
    """

    def __init__(self, base_url: str = LOCAL_URL, *, admin_key: str, timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self._client = Client(access_token=admin_key, base_url=base_url, timeout=timeout, retry=retry,
                              transport=transport)
        self.base_url = self._client.base_url

    def __repr__(self) -> str:
        return f"AdminClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def orgs(self) -> list[Org]:
        """Every organization with its apps and SSO redirect URIs."""
        return self._client.send(AdminCalls.orgs())

    def create_org(self, name: str, *, id: Id | None = None) -> Org:
        """A new organization (``id`` optional, 15–17 digits, D9)."""
        return self._client.send(AdminCalls.create_org(name, id))

    def create_app(self, org_id: Id, name: str, *, id: Id | None = None, secret: str | None = None) -> AppCredentials:
        """A new app; its secret and app token are in this answer only (D12)."""
        return self._client.send(AdminCalls.create_app(org_id, name, id, secret))

    def get_app(self, app_id: Id) -> AdminApp:
        """An app (never its secret)."""
        return self._client.send(AdminCalls.get_app(app_id))

    def rotate_secret(self, app_id: Id, *, secret: str | None = None) -> AppCredentials:
        """A new secret (random, or ``secret``): valid at once, the old one refused at once (D12)."""
        return self._client.send(AdminCalls.rotate_secret(app_id, secret))

    def redirect_uris(self, org_id: Id) -> list[str]:
        """The organization's SSO redirect URIs (D30)."""
        return self._client.send(AdminCalls.redirect_uris(org_id))

    def add_redirect_uri(self, org_id: Id, redirect_uri: str) -> list[str]:
        """Register a redirect URI; answers the whole list."""
        return self._client.send(AdminCalls.add_redirect_uri(org_id, redirect_uri))

    def users(self, app_id: Id) -> list[AdminUser]:
        """The app's users."""
        return self._client.send(AdminCalls.users(app_id))

    def create_user(self, app_id: Id, alias: str, *, display_name: str | None = None, profile_url: str | None = None,
                    age_category: AgeCategory | None = None, id: Id | None = None, org_scoped_id: Id | None = None,
                    entitled: bool | None = None) -> AdminUser:
        """A user of the app: a new person, or the person with that alias joining it (D10)."""
        return self._client.send(AdminCalls.create_user(
            app_id, alias, display_name=display_name, profile_url=profile_url, age_category=age_category, id=id,
            org_scoped_id=org_scoped_id, entitled=entitled))

    def get_user(self, user_id: Id) -> AdminUser:
        """One user by app-scoped id."""
        return self._client.send(AdminCalls.get_user(user_id))

    def mint_token(self, user_id: Id, *, ttl_seconds: int | None = None, token: str | None = None) -> str:
        """A user access token (D11), expiring after ``ttl_seconds`` if given."""
        return self._client.send(AdminCalls.mint_token(user_id, ttl_seconds, token))

    def mint_nonce(self, user_id: Id, *, ttl_seconds: int | None = None) -> MintedNonce:
        """A user proof nonce, as the headset's ``ovr_User_GetUserProof()`` would give (for ``validate_nonce``):
        a ``MintedNonce``, the nonce string itself with its ``expires_at`` (Unix seconds, server clock)."""
        return self._client.send(AdminCalls.mint_nonce(user_id, ttl_seconds))

    def grant_entitlement(self, user_id: Id) -> None:
        """Grant the user their app (idempotent)."""
        self._client.send(AdminCalls.grant_entitlement(user_id))

    def add_friend(self, user_id: Id, friend_id: Id) -> None:
        """Make two people friends, both ways."""
        self._client.send(AdminCalls.add_friend(user_id, friend_id))

    def reset(self, *, empty: bool = False) -> None:
        """Empty the database and re-apply the server's world (unless ``empty``)."""
        self._client.send(AdminCalls.reset(empty))

    def export_snapshot(self) -> dict[str, Any]:
        """The whole state as JSON (``{"version", "tables"}``)."""
        return self._client.send(AdminCalls.export_snapshot())

    def import_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        """Replace the whole state with an exported snapshot."""
        self._client.send(AdminCalls.import_snapshot(snapshot))

    def clock(self) -> ClockState:
        """The emulator clock (D36)."""
        return self._client.send(AdminCalls.clock())

    def advance_clock(self, seconds: int) -> ClockState:
        """Move the clock forward by ``seconds``. Not retried (a repeat would move it twice)."""
        return self._client.send(AdminCalls.move_clock(seconds, None))

    def set_clock(self, unix_seconds: int) -> ClockState:
        """Jump the clock to ``unix_seconds``."""
        return self._client.send(AdminCalls.move_clock(None, unix_seconds))

    # --- achievements, commerce and account linking (docs/config.md) -----------------------------------------
    def user_achievements(self, user_id: Id) -> list[AdminProgress]:
        """Every progress row of a user, archived and secret achievements included."""
        return self._client.send(FeatureAdminCalls.user_achievements(user_id))

    def items(self, app_id: Id) -> list[CatalogueItem]:
        """The app's IAP catalogue, by sku (D29)."""
        return self._client.send(FeatureAdminCalls.items(app_id))

    def create_item(self, app_id: Id, sku: str, type: ItemType, name: str, *, description: str | None = None,
                    price: int | None = None, currency: str | None = None, subscription_term: Term | None = None,
                    trial_type: TrialType | None = None, trial_term: Term | None = None,
                    trial_max_term_count: int | None = None, trial_price: int | None = None) -> CatalogueItem:
        """Add an item to the app's catalogue (``price`` in hundredths). Not retried."""
        return self._client.send(FeatureAdminCalls.create_item(
            app_id, sku, type, name, description=description, price=price, currency=currency,
            subscription_term=subscription_term, trial_type=trial_type, trial_term=trial_term,
            trial_max_term_count=trial_max_term_count, trial_price=trial_price))

    def grant_item(self, user_id: Id, sku: str, *, expires_at: int | None = None,
                   trial: bool | None = None) -> PurchaseRecord:
        """Give a user an item or a subscription, as a purchase on the headset would. Not retried."""
        return self._client.send(FeatureAdminCalls.grant_item(user_id, sku, expires_at, trial))

    def purchases(self, user_id: Id) -> list[PurchaseRecord]:
        """The user's whole purchase history, oldest first (consumed, refunded and lapsed rows included)."""
        return self._client.send(FeatureAdminCalls.purchases(user_id))

    def links(self, user_id: Id) -> list[AccountLink]:
        """Every account link of the person behind ``user_id`` (an app-scoped or org-scoped id)."""
        return self._client.send(FeatureAdminCalls.links(user_id))

    def revoke_link(self, link_id: Id) -> AccountLink:
        """Revoke a link: its oauth_tokens and refresh code stop at once."""
        return self._client.send(FeatureAdminCalls.revoke_link(link_id))

    def set_password(self, user_id: Id, password: str) -> None:
        """The password of the SSO page's production sign-in for the person behind ``user_id``."""
        self._client.send(FeatureAdminCalls.set_password(user_id, password))


class AsyncAdminClient:
    """``AdminClient`` for asyncio: the same methods, awaited."""

    def __init__(self, base_url: str = LOCAL_URL, *, admin_key: str, timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = AsyncClient(access_token=admin_key, base_url=base_url, timeout=timeout, retry=retry,
                                   transport=transport)
        self.base_url = self._client.base_url

    def __repr__(self) -> str:
        return f"AsyncAdminClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncAdminClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def orgs(self) -> list[Org]:
        return await self._client.send(AdminCalls.orgs())

    async def create_org(self, name: str, *, id: Id | None = None) -> Org:
        return await self._client.send(AdminCalls.create_org(name, id))

    async def create_app(self, org_id: Id, name: str, *, id: Id | None = None,
                         secret: str | None = None) -> AppCredentials:
        return await self._client.send(AdminCalls.create_app(org_id, name, id, secret))

    async def get_app(self, app_id: Id) -> AdminApp:
        return await self._client.send(AdminCalls.get_app(app_id))

    async def rotate_secret(self, app_id: Id, *, secret: str | None = None) -> AppCredentials:
        return await self._client.send(AdminCalls.rotate_secret(app_id, secret))

    async def redirect_uris(self, org_id: Id) -> list[str]:
        return await self._client.send(AdminCalls.redirect_uris(org_id))

    async def add_redirect_uri(self, org_id: Id, redirect_uri: str) -> list[str]:
        return await self._client.send(AdminCalls.add_redirect_uri(org_id, redirect_uri))

    async def users(self, app_id: Id) -> list[AdminUser]:
        return await self._client.send(AdminCalls.users(app_id))

    async def create_user(self, app_id: Id, alias: str, *, display_name: str | None = None,
                          profile_url: str | None = None, age_category: AgeCategory | None = None,
                          id: Id | None = None, org_scoped_id: Id | None = None,
                          entitled: bool | None = None) -> AdminUser:
        return await self._client.send(AdminCalls.create_user(
            app_id, alias, display_name=display_name, profile_url=profile_url, age_category=age_category, id=id,
            org_scoped_id=org_scoped_id, entitled=entitled))

    async def get_user(self, user_id: Id) -> AdminUser:
        return await self._client.send(AdminCalls.get_user(user_id))

    async def mint_token(self, user_id: Id, *, ttl_seconds: int | None = None, token: str | None = None) -> str:
        return await self._client.send(AdminCalls.mint_token(user_id, ttl_seconds, token))

    async def mint_nonce(self, user_id: Id, *, ttl_seconds: int | None = None) -> MintedNonce:
        return await self._client.send(AdminCalls.mint_nonce(user_id, ttl_seconds))

    async def grant_entitlement(self, user_id: Id) -> None:
        await self._client.send(AdminCalls.grant_entitlement(user_id))

    async def add_friend(self, user_id: Id, friend_id: Id) -> None:
        await self._client.send(AdminCalls.add_friend(user_id, friend_id))

    async def reset(self, *, empty: bool = False) -> None:
        await self._client.send(AdminCalls.reset(empty))

    async def export_snapshot(self) -> dict[str, Any]:
        return await self._client.send(AdminCalls.export_snapshot())

    async def import_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        await self._client.send(AdminCalls.import_snapshot(snapshot))

    async def clock(self) -> ClockState:
        return await self._client.send(AdminCalls.clock())

    async def advance_clock(self, seconds: int) -> ClockState:
        return await self._client.send(AdminCalls.move_clock(seconds, None))

    async def set_clock(self, unix_seconds: int) -> ClockState:
        return await self._client.send(AdminCalls.move_clock(None, unix_seconds))

    async def user_achievements(self, user_id: Id) -> list[AdminProgress]:
        return await self._client.send(FeatureAdminCalls.user_achievements(user_id))

    async def items(self, app_id: Id) -> list[CatalogueItem]:
        return await self._client.send(FeatureAdminCalls.items(app_id))

    async def create_item(self, app_id: Id, sku: str, type: ItemType, name: str, *, description: str | None = None,
                          price: int | None = None, currency: str | None = None,
                          subscription_term: Term | None = None, trial_type: TrialType | None = None,
                          trial_term: Term | None = None, trial_max_term_count: int | None = None,
                          trial_price: int | None = None) -> CatalogueItem:
        return await self._client.send(FeatureAdminCalls.create_item(
            app_id, sku, type, name, description=description, price=price, currency=currency,
            subscription_term=subscription_term, trial_type=trial_type, trial_term=trial_term,
            trial_max_term_count=trial_max_term_count, trial_price=trial_price))

    async def grant_item(self, user_id: Id, sku: str, *, expires_at: int | None = None,
                         trial: bool | None = None) -> PurchaseRecord:
        return await self._client.send(FeatureAdminCalls.grant_item(user_id, sku, expires_at, trial))

    async def purchases(self, user_id: Id) -> list[PurchaseRecord]:
        return await self._client.send(FeatureAdminCalls.purchases(user_id))

    async def links(self, user_id: Id) -> list[AccountLink]:
        return await self._client.send(FeatureAdminCalls.links(user_id))

    async def revoke_link(self, link_id: Id) -> AccountLink:
        return await self._client.send(FeatureAdminCalls.revoke_link(link_id))

    async def set_password(self, user_id: Id, password: str) -> None:
        await self._client.send(FeatureAdminCalls.set_password(user_id, password))
