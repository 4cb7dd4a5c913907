"""The ``questgraph`` command. ``serve`` runs the server; admin and Graph commands come with the client."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from questgraph import __version__

if TYPE_CHECKING:
    from questgraph.server.app import Server
    from questgraph.server.world import World


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the questgraph server",
                           description="Run questgraph: graph.oculus.com's S2S API on your machine.")
    serve.add_argument("--demo", action="store_true", help="start with the demo world (docs/config.md)")
    serve.add_argument("--config", type=Path, help="a world file (TOML) applied to an empty database")
    serve.add_argument("--db", default=None, help="SQLite file (default: questgraph.sqlite3, or "
                       "questgraph-demo.sqlite3 with --demo)")
    serve.add_argument("--memory", action="store_true", help="keep everything in memory (lost on exit)")
    serve.add_argument("--reset", action="store_true", help="wipe the database first, then apply the world")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--public-url", help="base URL clients use to reach this server (paging links)")
    serve.add_argument("--trust-forwarded-headers", action="store_true",
                       help="build paging links from X-Forwarded-*/Forwarded (only behind your own proxy)")
    serve.add_argument("--admin-key", default=os.environ.get("QUESTGRAPH_ADMIN_KEY"),
                       help="key for the /_admin API (env QUESTGRAPH_ADMIN_KEY; the demo world sets one)")
    serve.add_argument("--production", action="store_true",
                       help="production mode: the clock cannot be moved and no admin key is invented")
    serve.add_argument("--log-level", default="info")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


def serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from questgraph.server.app import Server
        from questgraph.server.settings import Settings
        from questgraph.server.world import World, WorldError
    except ImportError as exc:
        print(f"questgraph: the server is not installed ({exc.name} is missing).\n"
              '  Install it with: pip install "questgraph[server]"', file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        world = World.demo() if args.demo else World.load(args.config) if args.config else None
    except WorldError as exc:
        print(f"questgraph: {exc}", file=sys.stderr)
        return 2
    database = ":memory:" if args.memory else args.db or ("questgraph-demo.sqlite3" if args.demo
                                                          else "questgraph.sqlite3")
    if args.reset and database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
    admin_key = args.admin_key or (world.admin_key if world else None)
    if admin_key is None and not args.production:
        admin_key = secrets.token_urlsafe(24)
    settings = Settings(
        database=database, config=args.config, host=args.host, port=args.port, public_url=args.public_url,
        trust_forwarded=args.trust_forwarded_headers, admin_key=admin_key, emulator=not args.production,
    )
    try:
        server = Server(settings, world)
    except WorldError as exc:
        print(f"questgraph: {exc}", file=sys.stderr)
        return 2
    print(banner(server, world), flush=True)
    # uvicorn's access log prints query strings, which may hold access tokens: questgraph logs its own.
    # Forwarded headers are questgraph's to judge (--trust-forwarded-headers), not uvicorn's.
    uvicorn.run(server.asgi(), host=args.host, port=args.port, log_level=args.log_level.lower(),
                access_log=False, proxy_headers=False)
    return 0


def banner(server: Server, world: World | None) -> str:
    """What a newcomer needs to make a first call: ids, tokens, and a curl line to paste.

    Secrets and tokens come only from the world file the user wrote (or the demo world), and are
    printed only in emulator mode; a production server prints none of them.
    """
    settings = server.settings
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    lines = [f"questgraph {__version__} — S2S Graph API at {base}  (database: {settings.database})"]
    if not settings.emulator:
        lines.append("Production mode: the clock is fixed to the wall clock; no secrets or tokens are printed.")
        return "\n".join(lines)
    first_call: tuple[str, str] | None = None
    for org in (world.data.get("orgs", []) if world else []):
        for app in org.get("apps", []):
            if "id" not in app or "secret" not in app:
                continue
            token = f"OC|{app['id']}|{app['secret']}"
            lines += [f"  app {app['name']}: id {app['id']}", f"    app access token: {token}"]
            boards = app.get("leaderboards", [])
            if first_call is None and boards:
                first_call = (token, str(boards[0]["api_name"]))
    for user in (world.data.get("users", []) if world else []):
        for member in user.get("apps", []):
            token = (member.get("tokens") or [""])[0]
            lines.append(f"  user {user['alias']}: id {member.get('id', '?')}" + (f"  token {token}" if token else ""))
    if first_call is not None:
        token, api_name = first_call
        lines += [
            "",
            "Try it:",
            f"  curl -G -H 'Authorization: Bearer {token}' -d api_name={api_name} -d summary=true \\",
            f"    -d 'fields=user{{id,alias}},rank,score,timestamp' {base}/leaderboard_entries",
        ]
    if settings.admin_key:
        lines.append(f"Admin API: {base}/_admin/orgs with 'Authorization: Bearer {settings.admin_key}'"
                     " (docs/config.md)")
    return "\n".join(lines)
