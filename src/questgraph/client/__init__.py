"""The questgraph Python client of Meta Quest's S2S Graph API (graph.oculus.com or a questgraph server).

Needs only httpx. See docs/client.md. Everything public is re-exported here and from ``questgraph``.
"""

from questgraph.client._admin import AdminClient, AsyncAdminClient
from questgraph.client._async_client import AsyncClient
from questgraph.client._base import DEFAULT_BASE_URL, Call
from questgraph.client._client import Client
from questgraph.client._errors import (
    AuthError,
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
from questgraph.client._models import (
    AdminApp,
    AdminUser,
    AppCredentials,
    ClockState,
    EntriesPage,
    Leaderboard,
    LeaderboardEntry,
    Org,
    SubmitResult,
    User,
)
from questgraph.client._retry import NO_RETRY, RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL", "NO_RETRY", "AdminApp", "AdminClient", "AdminUser", "AppCredentials", "AsyncAdminClient",
    "AsyncClient", "AsyncLeaderboards", "AuthError", "Call", "Client", "ClockState", "EntriesPage", "GraphError",
    "InvalidParameter", "Leaderboard", "LeaderboardEntry", "Leaderboards", "NotEntitled", "NotFound", "NotRanked",
    "Org", "PermissionDenied", "QuestGraphError", "RateLimited", "RequestTimeout", "RetryPolicy", "ServerError",
    "SubmitResult", "TransportError", "User",
]
