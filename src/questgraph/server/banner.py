"""The start-up banner of ``questgraph serve``: what a newcomer needs to make a first call.

It shows what the database holds, not what the world file says: the apps and users are read from the
services, so a user whose id the server chose shows that id. Secrets and tokens are stored only as digests
(D11), so a credential can be shown only when the world file declares it *and* it still works (checked
against the database the way a request is): a rotated secret is not shown, and the banner says how to
get a new one. Long lists are cut short, with the command that lists them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from questgraph import __version__
from questgraph.server.auth.callers import AppCaller, UserCaller
from questgraph.server.errors import GraphError

if TYPE_CHECKING:
    from questgraph.server.app import Server
    from questgraph.server.identity.records import App
    from questgraph.server.world import World

MAX_APPS = 10  # apps listed in the banner
MAX_USERS = 10  # users listed per app


Declared = tuple[dict[int, str], dict[int, list[str]], dict[tuple[int, str], list[str]]]


def _declared(world: World | None) -> Declared:
    """The world file's secrets and leaderboard names by app id, and its user tokens by (app id, alias)."""
    secrets: dict[int, str] = {}
    boards: dict[int, list[str]] = {}
    tokens: dict[tuple[int, str], list[str]] = {}
    if world is None:
        return secrets, boards, tokens
    for org in world.data.get("orgs", []):
        for app in org.get("apps", []):
            if "id" in app and "secret" in app:
                secrets[int(app["id"])] = str(app["secret"])
            if "id" in app:
                boards[int(app["id"])] = [str(b.get("api_name", "")).strip() for b in app.get("leaderboards", [])]
    for user in world.data.get("users", []):
        for member in user.get("apps", []):
            tokens[(int(member["app"]), str(user["alias"]))] = [str(t) for t in member.get("tokens", [])]
    return secrets, boards, tokens


def _works(server: Server, token: str) -> AppCaller | UserCaller | None:
    """The caller a token authenticates as today, or None (rotated, expired, never made)."""
    try:
        caller = server.auth.authenticate(token)
    except GraphError:
        return None
    return caller if isinstance(caller, AppCaller | UserCaller) else None


def banner(server: Server, world: World | None) -> str:
    settings = server.settings
    scheme = "https" if settings.tls_dir else "http"
    base = settings.public_url or f"{scheme}://{settings.host}:{settings.port}"
    lines = [f"questgraph {__version__} — S2S Graph API at {base}  (database: {settings.database})"]
    if settings.tls_dir:
        lines += _tls_lines(settings.tls_dir, settings.port)
    # D30: the account-linking page may live on a base of its own
    lines.append(f"Dashboard: {base}/dashboard   Account-linking (SSO) page: {settings.sso_public_url or base}/sso/")
    if world is not None and server.world_not_applied:
        lines.append(f"Note: {world.source} was not applied: the database already holds state that was not made "
                     "from this version of it (the file was edited, or the state came from elsewhere). "
                     "Start with --reset to apply it (the database's state is deleted first).")
    if not settings.emulator:
        lines.append("Production mode: the clock is fixed to the wall clock; no secrets or tokens are printed.")
        return "\n".join(lines)
    secrets, declared_boards, tokens = _declared(world)
    first_call: tuple[str, str] | None = None
    apps = [app for org in server.identity.orgs() for app in server.identity.apps(org.id)]
    rotated: list[App] = []
    known_token = False
    for app in apps[:MAX_APPS]:
        lines.append(f"  app {app.name}: id {app.id}")
        secret = secrets.get(app.id)
        token = f"OC|{app.id}|{secret}" if secret is not None else None
        if token is not None and _works(server, token) is not None:
            lines.append(f"    app access token: {token}")
            known_token = True
            names = [b.api_name for b in server.leaderboards.boards(AppCaller(app), app.id, None)]
            if first_call is None and names:  # the world's first board, when it is still there
                first_call = (token, next((n for n in declared_boards.get(app.id, []) if n in names), names[0]))
        elif token is not None:
            rotated.append(app)
            lines.append("    app secret: rotated since the world file set it; only its hash is kept, so it cannot "
                         f"be shown. A new one: questgraph apps rotate-secret {app.id}")
        else:
            lines.append("    app secret: shown only when the app was made; a new one: "
                         f"questgraph apps rotate-secret {app.id}")
        users = server.identity.app_users(app.id)
        for user in users[:MAX_USERS]:
            shown = next((t for t in tokens.get((app.id, user.alias), []) if _works(server, t) is not None), None)
            lines.append(f"  user {user.alias}: id {user.id}" + (f"  token {shown}" if shown else ""))
        if len(users) > MAX_USERS:
            lines.append(f"  … and {len(users) - MAX_USERS:,} more users: questgraph users list {app.id}")
    if len(apps) > MAX_APPS:
        lines.append(f"  … and {len(apps) - MAX_APPS:,} more apps: questgraph orgs list")
    if first_call is not None:
        token, api_name = first_call
        lines += [
            "",
            "Try it:",
            f"  curl -G{_cacert(settings.tls_dir)} -H 'Authorization: Bearer {token}' -d api_name={api_name} "
            "-d summary=true \\",
            f"    -d 'fields=user{{id,alias}},rank,score,timestamp' {base}/leaderboard_entries",
        ]
    elif rotated:
        lines += ["", "Try it: no curl line, as no app token is known (the world file's secret was rotated)."]
    elif known_token:
        lines += ["", "Try it: no curl line yet, as no app has a leaderboard to read."]
    elif apps:
        lines += ["", "Try it: no curl line, as no app token is known (a secret is shown only when it is made)."]
    if settings.admin_key:
        lines.append(f"Admin API: {base}/_admin/orgs with 'Authorization: Bearer {settings.admin_key}'"
                     " (docs/config.md)")
    lines.append("Every endpoint, its parameters and answers: docs/api.md")
    return "\n".join(lines)


def _tls_lines(tls_dir: str, port: int) -> list[str]:
    """serve --tls: the names the certificate holds, its authority and how to reach it as Meta's hosts."""
    from questgraph.server.tls import TlsFiles, fingerprint

    ca = TlsFiles(Path(tls_dir)).ca_cert
    on = "" if port == 443 else f":{port}"
    return [
        f"HTTPS as https://graph.oculus.com{on}/ and https://auth.oculus.com{on}/sso/ (and localhost, 127.0.0.1)",
        f"  certificate authority: {ca}  (SHA-256 {fingerprint(ca)[:23]}…); how to trust it: questgraph ca",
        "  point Meta's hosts here: '127.0.0.1 graph.oculus.com auth.oculus.com' in /etc/hosts"
        + ("" if port == 443 else " (unmodified URLs mean port 443: see docs/drop-in.md)"),
    ]


def _cacert(tls_dir: str | None) -> str:
    if not tls_dir:
        return ""
    from questgraph.server.tls import TlsFiles

    return f" --cacert {TlsFiles(Path(tls_dir)).ca_cert}"
