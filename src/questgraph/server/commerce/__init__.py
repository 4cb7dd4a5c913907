"""Entitlements, in-app purchases (graph-api.md §3) and subscriptions (§6)."""

from questgraph.server.commerce.service import CommerceService

__all__ = ["CommerceService"]
