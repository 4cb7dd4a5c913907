"""Who is calling: tokens (D4, D11) resolved into an app caller or a user caller."""

from questgraph.server.auth.callers import AnyCaller, AppCaller, Caller, LinkCaller, UserCaller
from questgraph.server.auth.tokens import Authenticator

__all__ = ["AnyCaller", "AppCaller", "Authenticator", "Caller", "LinkCaller", "UserCaller"]
