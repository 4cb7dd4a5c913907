"""Organizations, apps and their secrets, people and their app- and org-scoped ids (D10–D12)."""

from questgraph.server.identity.service import IdentityService

__all__ = ["IdentityService"]
