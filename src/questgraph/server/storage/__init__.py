"""Storage behind one interface (``Storage``); SQLite is the embedded default."""

from questgraph.server.storage.interface import Storage
from questgraph.server.storage.records import App, Entry, Leaderboard, Org, User, UserToken

__all__ = ["App", "Entry", "Leaderboard", "Org", "Storage", "User", "UserToken"]
