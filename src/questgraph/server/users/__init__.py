"""Users and user verification (graph-api.md §4, D8, D10, D33)."""

from questgraph.server.users.service import UserService

__all__ = ["UserService"]
