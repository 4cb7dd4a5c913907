"""Where the SSO page lives (D30): ``/sso/`` of this server, or ``{sso_public_url}/sso/`` when the operator
puts the page on a host (and maybe a path prefix) of its own, as Meta serves it on auth.oculus.com while the
Graph API is on graph.oculus.com (graph-api.md §5.1).

Without ``sso_public_url`` the page only ever links to itself with host-relative URLs (``/sso/login``,
``/sso/static/sso.css``, ``Location: /sso/?…``), which are right whatever host the browser used. With it,
every link, form action and redirect of the page to itself is made absolute on that base, so the page keeps
working behind a proxy that serves it at another host or under a path prefix (``https://example.com/accounts``
in front of ``/sso/`` here), and its session cookie is scoped to that path and Secure when the base is https.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from questgraph.server.settings import Settings

PREFIX = "/sso"


def sso_base_url(settings: Settings, server_base_url: str) -> str:
    """The absolute base the page is reached at (without ``/sso``): the configured one, else this server's."""
    return (settings.sso_public_url or server_base_url).rstrip("/")


def sso_page_url(settings: Settings, server_base_url: str) -> str:
    """The absolute URL of the page itself, as a studio's website should link to it."""
    return f"{sso_base_url(settings, server_base_url)}{PREFIX}/"


def own_url(url: str, sso_public_url: str | None) -> str:
    """A URL of the page to itself, made absolute on the configured base. Anything else (the studio's
    registered URI after consent) is returned as it is."""
    if sso_public_url and (url == PREFIX or url.startswith(PREFIX + "/") or url.startswith(PREFIX + "?")):
        return sso_public_url.rstrip("/") + url
    return url


def own_links(html: str, sso_public_url: str | None) -> str:
    """Every ``href="/sso…"`` and ``action="/sso…"`` of a page made absolute on the configured base.

    Safe as a plain replacement: the templates (sso/templates/) are autoescaped, so text that came from a request
    or the database cannot contain ``="/sso`` (its quote would be ``&#34;``); only the templates' own attributes
    can.
    """
    if not sso_public_url:
        return html
    base = escape(sso_public_url.rstrip("/"), quote=True)
    return html.replace(f'="{PREFIX}/', f'="{base}{PREFIX}/').replace(f'="{PREFIX}?', f'="{base}{PREFIX}?')


def cookie_path(sso_public_url: str | None) -> str:
    """The session cookie's path: ``/sso`` under the base's own path prefix, as the browser sees it."""
    prefix = urlsplit(sso_public_url).path.rstrip("/") if sso_public_url else ""
    return prefix + PREFIX
