"""The questgraph Python client of Meta Quest's S2S Graph API (graph.oculus.com or a questgraph server).

Needs only httpx. See docs/client.md. Everything public is re-exported here and from ``questgraph``.
"""

from questgraph.client._achievements import Achievements, AsyncAchievements
from questgraph.client._admin import AdminClient, AsyncAdminClient
from questgraph.client._async_client import AsyncClient
from questgraph.client._base import DEFAULT_BASE_URL, Call
from questgraph.client._client import Client
from questgraph.client._commerce import AsyncEntitlements, AsyncSubscriptions, Entitlements, Subscriptions
from questgraph.client._errors import (
    AuthError,
    ConnectionFailed,
    GraphError,
    InvalidParameter,
    NotEntitled,
    NotFound,
    NotRanked,
    PermissionDenied,
    QuestGraphError,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
)
from questgraph.client._leaderboards import AsyncLeaderboards, Leaderboards
from questgraph.client._linking import AccountLinking, AsyncAccountLinking, decode_fragment, sso_url
from questgraph.client._models import (
    AccountLink,
    AchievementDefinition,
    AchievementProgress,
    AchievementWrite,
    AdminApp,
    AdminProgress,
    AdminUser,
    AppCredentials,
    BillingPlan,
    CatalogueItem,
    ClockState,
    Entitlement,
    EntriesPage,
    IapItem,
    Leaderboard,
    LeaderboardEntry,
    LinkFragment,
    LinkTokens,
    Offer,
    Org,
    Page,
    Price,
    PriceTerm,
    Purchase,
    PurchaseRecord,
    SubmitResult,
    Subscription,
    User,
)
from questgraph.client._nonce import MintedNonce
from questgraph.client._retry import NO_RETRY, RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL", "NO_RETRY", "AccountLink", "AccountLinking", "AchievementDefinition", "AchievementProgress",
    "AchievementWrite", "Achievements", "AdminApp", "AdminClient", "AdminProgress", "AdminUser", "AppCredentials",
    "AsyncAccountLinking", "AsyncAchievements", "AsyncAdminClient", "AsyncClient", "AsyncEntitlements",
    "AsyncLeaderboards", "AsyncSubscriptions", "AuthError", "ConnectionFailed", "BillingPlan", "Call", "CatalogueItem", "Client",
    "ClockState", "Entitlement", "Entitlements", "EntriesPage", "GraphError", "IapItem", "InvalidParameter",
    "Leaderboard", "LeaderboardEntry", "Leaderboards", "LinkFragment", "LinkTokens", "MintedNonce", "NotEntitled",
    "NotFound",
    "NotRanked", "Offer", "Org", "Page", "PermissionDenied", "Price", "PriceTerm", "Purchase", "PurchaseRecord",
    "QuestGraphError", "RateLimited", "RequestTimeout", "RetryPolicy", "ServerError", "SubmitResult", "Subscription",
    "Subscriptions", "TransportError", "User", "decode_fragment", "sso_url",
]
