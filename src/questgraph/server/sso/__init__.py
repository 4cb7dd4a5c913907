"""Account linking (graph-api.md §5): the SSO page, code exchange, oauth_tokens and refresh (D30-D35)."""

from questgraph.server.sso.service import SsoService

__all__ = ["SsoService"]
