"""The admin API of a questgraph server (``/_admin``, docs/config.md): orgs, apps and secrets, SSO redirect
URIs, users, tokens, nonces, entitlements, friends, reset, snapshots, the emulator clock (D36), a user's
achievement progress, the IAP catalogue, grants and purchase history, and account links and SSO passwords.

Meta has no such API; this is for setting up and inspecting a questgraph server from scripts and tests.
Each method is written once and builds its call (_group.py); ``AdminClient`` sends it with the admin key,
``AsyncAdminClient`` awaits it. ``safe`` marks the calls whose repeat leaves the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from questgraph.client._async_client import AsyncClient
from questgraph.client._base import DEFAULT_TIMEOUT, Call, params, success
from questgraph.client._client import Client
from questgraph.client._group import C, Group, endpoint
from questgraph.client._models import (
    AccountLink,
    AdminApp,
    AdminProgress,
    AdminUser,
    AgeCategory,
    AppCredentials,
    CatalogueItem,
    ClockState,
    Id,
    ItemType,
    Org,
    PurchaseRecord,
    Term,
    TrialType,
    id_str,
    opt_id,
)
from questgraph.client._nonce import MintedNonce
from questgraph.client._notifications import NotifCategory, NotifRequest, SentNotification
from questgraph.client._retry import RetryPolicy

LOCAL_URL = "http://127.0.0.1:8080"  # where `questgraph serve` listens by default


def _uris(body: Any) -> list[str]:
    return [str(u) for u in body["data"]]


def _clock(body: Any) -> ClockState:
    return ClockState(now=int(body["now"]), offset_seconds=float(body["offset_seconds"]),
                      frozen=bool(body.get("frozen", False)))


def _user(user_id: Id, what: str = "") -> str:
    return f"/_admin/users/{id_str(user_id, 'user_id')}{what}"


def _app(app_id: Id, what: str = "") -> str:
    return f"/_admin/apps/{id_str(app_id, 'app_id')}{what}"


def _org(org_id: Id, what: str) -> str:
    return f"/_admin/orgs/{id_str(org_id, 'org_id')}{what}"


class _Admin(Group[C]):
    @endpoint
    def orgs(self) -> Call[list[Org]]:
        """Every organization with its apps and SSO redirect URIs."""
        return Call("GET", "/_admin/orgs", {}, lambda b: [Org.from_json(o) for o in b["data"]], safe=True)

    @endpoint
    def create_org(self, name: str, *, id: Id | None = None) -> Call[Org]:
        """A new organization (``id`` optional, 15–17 digits, D9)."""
        # Not repeated: without an id, a repeat would make a second organization.
        return Call("POST", "/_admin/orgs", params(name=name, id=opt_id(id, "id")), Org.from_json)

    @endpoint
    def create_app(self, org_id: Id, name: str, *, id: Id | None = None,
                   secret: str | None = None) -> Call[AppCredentials]:
        """A new app; its secret and app token are in this answer only (D12)."""
        return Call("POST", _org(org_id, "/apps"), params(name=name, id=opt_id(id, "id"), secret=secret),
                    AppCredentials.from_json)

    @endpoint
    def get_app(self, app_id: Id) -> Call[AdminApp]:
        """An app (never its secret)."""
        return Call("GET", _app(app_id), {}, AdminApp.from_json, safe=True)

    @endpoint
    def rotate_secret(self, app_id: Id, *, secret: str | None = None) -> Call[AppCredentials]:
        """A new secret (random, or ``secret``): valid at once, the old one refused at once (D12)."""
        # A repeat of a random rotation would make a secret nobody saw: only a chosen secret is safe.
        return Call("POST", _app(app_id, "/secret"), params(secret=secret), AppCredentials.from_json,
                    safe=secret is not None)

    @endpoint
    def redirect_uris(self, org_id: Id) -> Call[list[str]]:
        """The organization's SSO redirect URIs (D30)."""
        return Call("GET", _org(org_id, "/redirect_uris"), {}, _uris, safe=True)

    @endpoint
    def add_redirect_uri(self, org_id: Id, redirect_uri: str) -> Call[list[str]]:
        """Register a redirect URI; answers the whole list."""
        return Call("POST", _org(org_id, "/redirect_uris"), params(redirect_uri=redirect_uri), _uris,
                    safe=True)  # registering twice is harmless

    @endpoint
    def users(self, app_id: Id) -> Call[list[AdminUser]]:
        """The app's users."""
        return Call("GET", _app(app_id, "/users"), {}, lambda b: [AdminUser.from_json(u) for u in b["data"]],
                    safe=True)

    @endpoint
    def create_user(self, app_id: Id, alias: str, *, display_name: str | None = None, profile_url: str | None = None,
                    age_category: AgeCategory | None = None, id: Id | None = None, org_scoped_id: Id | None = None,
                    entitled: bool | None = None) -> Call[AdminUser]:
        """A user of the app: a new person, or the person with that alias joining it (D10)."""
        # Joining an app twice answers the same user (docs/config.md): safe to repeat.
        return Call("POST", _app(app_id, "/users"), params(
            alias=alias, display_name=display_name, profile_url=profile_url, age_category=age_category,
            id=opt_id(id, "id"), org_scoped_id=opt_id(org_scoped_id, "org_scoped_id"), entitled=entitled),
            AdminUser.from_json, safe=True)

    @endpoint
    def get_user(self, user_id: Id) -> Call[AdminUser]:
        """One user by app-scoped id."""
        return Call("GET", _user(user_id), {}, AdminUser.from_json, safe=True)

    @endpoint
    def mint_token(self, user_id: Id, *, ttl_seconds: int | None = None, token: str | None = None) -> Call[str]:
        """A user access token (D11), expiring after ``ttl_seconds`` if given."""
        # A chosen token minted twice answers it again; a random one would mint a second token.
        return Call("POST", _user(user_id, "/tokens"), params(ttl_seconds=ttl_seconds, token=token),
                    lambda b: str(b["access_token"]), safe=token is not None)

    @endpoint
    def mint_nonce(self, user_id: Id, *, ttl_seconds: int | None = None, nonce: str | None = None) -> Call[MintedNonce]:
        """A user proof nonce, as the headset's ``ovr_User_GetUserProof()`` would give (for ``validate_nonce``):
        a ``MintedNonce``, the nonce string itself with its ``expires_at`` (Unix seconds, server clock).
        ``nonce`` chooses its text (16-1024 letters, digits or ``. _ ~ + / = -``), so a test can name it."""
        # Each call mints a new nonce, and a chosen one minted twice is a 400: not repeated.
        return Call("POST", _user(user_id, "/nonces"), params(ttl_seconds=ttl_seconds, nonce=nonce),
                    MintedNonce.from_json)

    @endpoint
    def grant_entitlement(self, user_id: Id, *, granted_at: int | None = None) -> Call[None]:
        """Grant the user their app (idempotent), now or at ``granted_at`` (Unix seconds, not in the future)."""
        return Call("POST", _user(user_id, "/entitlements"), params(granted_at=granted_at), success, safe=True)

    @endpoint
    def add_friend(self, user_id: Id, friend_id: Id) -> Call[None]:
        """Make two people friends, both ways."""
        return Call("POST", _user(user_id, "/friends"), params(friend_id=id_str(friend_id, "friend_id")), success,
                    safe=True)

    @endpoint
    def reset(self, *, empty: bool = False) -> Call[None]:
        """Empty the database and re-apply the server's world (unless ``empty``)."""
        return Call("POST", "/_admin/reset", params(empty=empty), success, safe=True)

    @endpoint
    def export_snapshot(self) -> Call[dict[str, Any]]:
        """The whole state as JSON (``{"version", "tables"}``)."""
        return Call("GET", "/_admin/snapshot", {}, dict, safe=True)

    @endpoint
    def import_snapshot(self, snapshot: Mapping[str, Any]) -> Call[None]:
        """Replace the whole state with an exported snapshot."""
        return Call("POST", "/_admin/snapshot", params(version=snapshot.get("version"), tables=snapshot.get("tables")),
                    success, safe=True)

    @endpoint
    def clock(self) -> Call[ClockState]:
        """The emulator clock (D36)."""
        return Call("GET", "/_admin/clock", {}, _clock, safe=True)

    @endpoint
    def advance_clock(self, seconds: int) -> Call[ClockState]:
        """Move the clock forward by ``seconds``. Not retried (a repeat would move it twice)."""
        return Call("POST", "/_admin/clock", params(advance_seconds=seconds), _clock)

    @endpoint
    def set_clock(self, unix_seconds: int) -> Call[ClockState]:
        """Jump the clock to ``unix_seconds``."""
        return Call("POST", "/_admin/clock", params(set=unix_seconds), _clock, safe=True)  # lands on the same instant

    @endpoint
    def freeze_clock(self, frozen: bool = True) -> Call[ClockState]:
        """Freeze the clock where it stands (it then moves only when told to), or thaw it (``frozen=False``)."""
        return Call("POST", "/_admin/clock", params(freeze=frozen), _clock, safe=True)

    @endpoint
    def wall_clock(self) -> Call[ClockState]:
        """Return the clock to the wall clock: offset 0, running."""
        return Call("POST", "/_admin/clock", params(wall=True), _clock, safe=True)

    # --- achievements, commerce and account linking (docs/config.md) -----------------------------------------
    @endpoint
    def user_achievements(self, user_id: Id) -> Call[list[AdminProgress]]:
        """Every progress row of a user, archived and secret achievements included."""
        return Call("GET", _user(user_id, "/achievements"), {},
                    lambda b: [AdminProgress.from_json(r) for r in b["data"]], safe=True)

    @endpoint
    def items(self, app_id: Id) -> Call[list[CatalogueItem]]:
        """The app's IAP catalogue, by sku (D29)."""
        return Call("GET", _app(app_id, "/items"), {}, lambda b: [CatalogueItem.from_json(r) for r in b["data"]],
                    safe=True)

    @endpoint
    def create_item(self, app_id: Id, sku: str, type: ItemType, name: str, *, description: str | None = None,
                    price: int | None = None, currency: str | None = None, subscription_term: Term | None = None,
                    trial_type: TrialType | None = None, trial_term: Term | None = None,
                    trial_max_term_count: int | None = None, trial_price: int | None = None) -> Call[CatalogueItem]:
        """Add an item to the app's catalogue (``price`` in hundredths). Not retried."""
        # A sku already in the catalogue is a 400, so a repeat would turn success into an error.
        return Call("POST", _app(app_id, "/items"), params(
            sku=sku, type=type, name=name, description=description, price=price, currency=currency,
            subscription_term=subscription_term, trial_type=trial_type, trial_term=trial_term,
            trial_max_term_count=trial_max_term_count, trial_price=trial_price), CatalogueItem.from_json)

    @endpoint
    def grant_item(self, user_id: Id, sku: str, *, expires_at: int | None = None,
                   trial: bool | None = None, granted_at: int | None = None) -> Call[PurchaseRecord]:
        """Give a user an item or a subscription, as a purchase on the headset would, now or at ``granted_at``
        (Unix seconds, not in the future: a purchase made earlier). Not retried."""
        # An item still owned cannot be granted again (400), and a consumable consumed in between would be
        # granted twice.
        return Call("POST", _user(user_id, "/purchases"),
                    params(sku=sku, expires_at=expires_at, trial=trial, granted_at=granted_at),
                    PurchaseRecord.from_json)

    @endpoint
    def purchases(self, user_id: Id) -> Call[list[PurchaseRecord]]:
        """The user's whole purchase history, oldest first (consumed, refunded and lapsed rows included)."""
        return Call("GET", _user(user_id, "/purchases"), {},
                    lambda b: [PurchaseRecord.from_json(r) for r in b["data"]], safe=True)

    @endpoint
    def links(self, user_id: Id) -> Call[list[AccountLink]]:
        """Every account link of the person behind ``user_id`` (an app-scoped or org-scoped id)."""
        return Call("GET", _user(user_id, "/links"), {}, lambda b: [AccountLink.from_json(r) for r in b["data"]],
                    safe=True)

    @endpoint
    def revoke_link(self, link_id: Id) -> Call[AccountLink]:
        """Revoke a link: its oauth_tokens and refresh code stop at once."""
        # Revoking a revoked link leaves it revoked: safe to repeat.
        return Call("POST", f"/_admin/links/{id_str(link_id, 'link_id')}/revoke", {},
                    lambda b: AccountLink.from_json(b["link"]), safe=True)

    @endpoint
    def set_password(self, user_id: Id, password: str) -> Call[None]:
        """The password of the SSO page's production sign-in for the person behind ``user_id``."""
        return Call("POST", _user(user_id, "/password"), params(password=password), success,
                    safe=True)  # setting the same password twice leaves the same state

    # --- user notifications (D37) ------------------------------------------------------------------------------
    @endpoint
    def notif_requests(self, app_id: Id) -> Call[list[NotifRequest]]:
        """The app's notification request templates, by id."""
        return Call("GET", _app(app_id, "/notif_requests"), {},
                    lambda b: [NotifRequest.from_json(r) for r in b["data"]], safe=True)

    @endpoint
    def create_notif_request(self, app_id: Id, category: NotifCategory, *, name: str | None = None,
                             id: Id | None = None) -> Call[NotifRequest]:
        """Register a notification request id for the app, as Meta's dashboard issues one after review.
        Not retried (a chosen id taken by the first attempt would be a 400)."""
        return Call("POST", _app(app_id, "/notif_requests"), params(category=category, name=name, id=opt_id(id, "id")),
                    NotifRequest.from_json)

    @endpoint
    def notifications(self, app_id: Id) -> Call[list[SentNotification]]:
        """Every notification the app triggered, oldest first."""
        return Call("GET", _app(app_id, "/notifications"), {},
                    lambda b: [SentNotification.from_json(r) for r in b["data"]], safe=True)


class AdminClient(_Admin[Client]):
    """The admin API of a questgraph server, with its admin key (``Authorization: Bearer``).

    >>> admin = AdminClient("http://127.0.0.1:8080", admin_key="demo-admin-key")
    >>> app = admin.create_app(admin.create_org("Studio").id, "Game")
    >>> app.app_access_token          # shown once (D12)
    """

    def __init__(self, base_url: str = LOCAL_URL, *, admin_key: str, timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(Client(access_token=admin_key, base_url=base_url, timeout=timeout, retry=retry,
                                transport=transport))
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


class AsyncAdminClient(_Admin[AsyncClient]):
    """``AdminClient`` for asyncio: the same methods, awaited."""

    def __init__(self, base_url: str = LOCAL_URL, *, admin_key: str, timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(AsyncClient(access_token=admin_key, base_url=base_url, timeout=timeout, retry=retry,
                                     transport=transport))
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
