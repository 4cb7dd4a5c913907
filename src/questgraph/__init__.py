"""questgraph: Meta Quest's server-to-server Graph API, as a faithful local server and a Python client."""

__version__ = "0.1.0"

from questgraph.client import (
    AdminClient,
    AsyncAdminClient,
    AsyncClient,
    AuthError,
    Client,
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
    RetryPolicy,
    ServerError,
    TransportError,
)

__all__ = [
    "AdminClient",
    "AsyncAdminClient",
    "AsyncClient",
    "AuthError",
    "Client",
    "ConnectionFailed",
    "GraphError",
    "InvalidParameter",
    "NotEntitled",
    "NotFound",
    "NotRanked",
    "PermissionDenied",
    "QuestGraphError",
    "RateLimited",
    "RequestTimeout",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "__version__",
]
