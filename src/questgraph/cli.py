"""The ``questgraph`` command. ``serve`` runs the server; the admin and Graph commands call a server through
the client (docs/client.md)."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import itertools
import json
import logging
import os
import re
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from questgraph import __version__

if TYPE_CHECKING:
    from questgraph.server.app import Server
    from questgraph.server.tls import TlsFiles
    from questgraph.server.world import World


def banner(server: Server, world: World | None) -> str:
    """The start-up banner (server/banner.py): what the database holds, and how to make a first call."""
    from questgraph.server.banner import banner as server_banner

    return server_banner(server, world)


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the questgraph server",
                           description="Run questgraph: graph.oculus.com's S2S API on your machine, with its "
                                       "web dashboard at /dashboard and the account-linking (SSO) page at /sso/.")
    serve.add_argument("--demo", action="store_true", help="start with the demo world (docs/config.md)")
    serve.add_argument("--config", type=Path, help="a world file (TOML) applied to an empty database")
    serve.add_argument("--db", default=None, help="database: a SQLite file or sqlite:///path, or postgresql://… "
                       "(default: questgraph.sqlite3, or questgraph-demo.sqlite3 with --demo)")
    serve.add_argument("--memory", action="store_true", help="keep everything in memory (lost on exit)")
    serve.add_argument("--reset", action="store_true", help="wipe the database first, then apply the world")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default 8080; 8443 with --tls)")
    serve.add_argument("--public-url", help="base URL clients use to reach this server (paging links)")
    serve.add_argument("--trust-forwarded-headers", action="store_true",
                       help="build paging links from X-Forwarded-*/Forwarded (only behind your own proxy)")
    serve.add_argument("--admin-key", default=os.environ.get("QUESTGRAPH_ADMIN_KEY"),
                       help="key for the /_admin API (env QUESTGRAPH_ADMIN_KEY; the demo world sets one)")
    serve.add_argument("--production", action="store_true",
                       help="production mode: the clock cannot be moved and no admin key is invented")
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error", "critical"),
                       type=str.lower, help="how much the server logs on stderr (default info)")
    serve.add_argument("--max-admin-body-bytes", type=_checked("max_admin_body_bytes"),
                       default=os.environ.get("QUESTGRAPH_MAX_ADMIN_BODY_BYTES"),
                       help="largest admin API request body, such as a snapshot import (default 1 GiB; "
                       "env QUESTGRAPH_MAX_ADMIN_BODY_BYTES; Graph calls keep their 10 MiB)")
    serve.add_argument("--http", choices=("auto", "httptools", "h11"), default="auto",
                       help="uvicorn's HTTP/1.1 parser: auto (httptools, a C parser, when installed, as the "
                       "server extra does; else h11, pure Python)")
    serve.add_argument("--rank-index", default=os.environ.get("QUESTGRAPH_RANK_INDEX"),
                       help="where ranks are kept: memory (default, this process) or redis://host:port/db "
                       "(shared by every process; env QUESTGRAPH_RANK_INDEX)")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (>1 needs --db postgresql://… and --rank-index redis://…)")
    serve.add_argument("--sso-public-url", type=_checked("sso_public_url"),
                       help="base URL browsers reach the account-linking page at, when it is not --public-url "
                       "(the page is {URL}/sso/; D30)")
    serve.add_argument("--inspector-size", type=_checked("inspector_size"), default=None,
                       help="Graph requests the dashboard's request inspector keeps per app (default 200; 0: off)")
    serve.add_argument("--domain-lanes", type=_checked("domain_lanes"), default=None,
                       help="trips of Graph calls each process runs at once on PostgreSQL + Redis (default 4; "
                       "each may hold two database connections; SQLite and the in-memory index always run one)")
    serve.add_argument("--inspector-sample-rate", type=_checked("inspector_sample_rate"), default=None,
                       help="share of Graph requests the inspector keeps, 0 to 1 (default: 1 in emulator mode, "
                       "0 with --production)")
    # HTTPS as graph.oculus.com (issue 18, docs/drop-in.md)
    serve.add_argument("--tls", action="store_true",
                       help="serve HTTPS with a certificate for graph.oculus.com, auth.oculus.com and localhost, "
                       "signed by questgraph's local certificate authority (made once; see `questgraph ca`)")
    serve.add_argument("--tls-dir", type=Path, default=None,
                       help="where the authority and the certificate are kept (default $QUESTGRAPH_TLS_DIR, else "
                       "~/.local/share/questgraph/tls)")



def _checked(name: str) -> Any:
    """An argparse type from serve_options.py: its message becomes argparse's "invalid value" error."""
    def parse(text: str) -> Any:
        from questgraph.server import serve_options

        try:
            return getattr(serve_options, name)(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = name.replace("_", " ")
    return parse


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "conformance":  # conformance/cli.py: its own exit codes (1: the servers differ)
        from questgraph.conformance import cli as conformance

        return conformance.main(args)
    if args.command == "ca":
        return ca_command(args)
    if args.command == "proxy":
        return proxy_command(args)
    return run_client_command(args)


def build_parser() -> argparse.ArgumentParser:
    """Every command and flag of ``questgraph``."""
    parser = argparse.ArgumentParser(
        prog="questgraph", description="questgraph: Meta Quest's S2S Graph API on your machine. `questgraph serve` "
        "runs the server; the other commands call a server (the admin API with --admin-key, the Graph API with "
        "--token). Run `questgraph COMMAND --help` for a command's flags.")
    parser.add_argument("--version", action="version", version=f"questgraph {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _ca_parser(sub)
    _proxy_parser(sub)
    _client_parsers(sub)
    from questgraph.conformance.cli import add_parser as add_conformance_parser

    add_conformance_parser(sub)
    return parser


def workers_refusal(workers: int, database: str, rank_index: str | None) -> str | None:
    """Why ``--workers`` cannot be used with these settings, or None."""
    if workers < 1:
        return "questgraph: --workers must be at least 1"
    if workers == 1:
        return None
    missing = []
    if not database.startswith(("postgresql://", "postgres://")):
        missing.append("a PostgreSQL database (--db postgresql://user@host/dbname) instead of SQLite")
    if not (rank_index or "").startswith(("redis://", "rediss://", "unix://")):
        missing.append("a Redis rank index (--rank-index redis://host:6379/0) instead of the in-memory one")
    if not missing:
        return None
    return (f"questgraph: --workers {workers} needs state that every process shares, and SQLite and the "
            "in-memory rank index live inside one process. Use:\n  " + "\n  ".join(missing)
            + "\nor run one worker (--workers 1). See docs/deployment.md.")


def serve(args: argparse.Namespace) -> int:
    if args.port is None:
        args.port = 8443 if args.tls else 8080
    refusal = workers_refusal(args.workers, ":memory:" if args.memory else args.db or "questgraph.sqlite3",
                              args.rank_index)
    if refusal is not None:  # before anything is opened or wiped
        print(refusal, file=sys.stderr)
        return 2
    try:
        import uvicorn

        from questgraph.server.app import Server
        from questgraph.server.http_protocol import protocol_class
        from questgraph.server.settings import Settings
        from questgraph.server.world import World, WorldError
    except ImportError as exc:
        print(f"questgraph: the server is not installed ({exc.name} is missing).\n"
              '  Install it with: pip install "questgraph[server]"', file=sys.stderr)
        return 2
    busy = port_in_use(args.host, args.port)
    if busy is not None:  # before the banner and before anything is opened or written
        print(busy, file=sys.stderr)
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
        # Through the database layer, so a postgresql:// database (or sqlite:///…) is wiped too.
        from questgraph.server.db import WholeState, open_database

        db = open_database(database)
        WholeState(db).reset()
        db.close()
    admin_key = args.admin_key or (world.admin_key if world else None)
    if admin_key is None and not args.production:
        admin_key = secrets.token_urlsafe(24)
    settings = Settings(
        database=database, config=args.config, host=args.host, port=args.port, public_url=args.public_url,
        trust_forwarded=args.trust_forwarded_headers, admin_key=admin_key, emulator=not args.production,
        rank_index=args.rank_index, sso_public_url=args.sso_public_url,
    )
    if args.inspector_size is not None:
        settings.inspector_size = args.inspector_size
    if args.domain_lanes is not None:
        settings.domain_lanes = args.domain_lanes
    if args.max_admin_body_bytes is not None:  # argparse checks the environment's default like the flag
        settings.max_admin_body_bytes = args.max_admin_body_bytes
    settings.inspector_sample_rate = args.inspector_sample_rate  # None: the mode's default
    tls_options: dict[str, Any] = {}
    if args.tls:
        tls_files = _tls_files(args.tls_dir)
        if tls_files is None:
            return 2
        from questgraph.server.tls import uvicorn_options

        settings.tls_dir = str(tls_files.directory)
        tls_options = uvicorn_options(tls_files)
    try:
        # With --workers, this first Server applies the world to an empty database once, before any
        # worker starts (workers then find it applied); it serves nothing itself.
        server = Server(settings, world)
    except (WorldError, ValueError, RuntimeError) as exc:  # a bad world file, rank index URL or driver
        print(f"questgraph: {exc}", file=sys.stderr)
        return 2
    print(banner(server, world), flush=True)
    # uvicorn's access log prints query strings, which may hold access tokens: questgraph logs its own.
    # Forwarded headers are questgraph's to judge (--trust-forwarded-headers), not uvicorn's.
    if args.workers > 1:
        server.db.close()
        return _serve_workers(args, settings, tls_options)
    uvicorn.run(server.asgi(), host=args.host, port=args.port, log_level=args.log_level.lower(),
                access_log=False, proxy_headers=False, http=protocol_class(args.http), **tls_options)
    return 0


def port_in_use(host: str, port: int) -> str | None:
    """Why questgraph cannot listen on ``host:port`` (another server has it, or the address is not this
    machine's), or None when it can."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            if os.name != "nt":  # as uvicorn binds: a port in TIME_WAIT is free, one with a listener is not
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if isinstance(exc, PermissionError) and port < 1024:  # --tls on 443 (docs/drop-in.md)
            return (f"questgraph: cannot listen on {host}:{port} ({exc.strerror or exc}): ports below 1024 need "
                    "root or CAP_NET_BIND_SERVICE.\n  See docs/drop-in.md for port 443 without root, or pick a "
                    "port of 1024 or more with --port N.")
        return (f"questgraph: cannot listen on {host}:{port} ({exc.strerror or exc}): another server may be "
                f"using it.\n  Pick another port with --port N (or another address with --host).")
    return None


def _serve_workers(args: argparse.Namespace, settings: Any, tls_options: dict[str, Any]) -> int:
    """N processes of ``questgraph.server.asgi:app``, configured through the environment (asgi.py)."""
    import shutil
    import tempfile

    import uvicorn

    from questgraph.server.asgi import settings_env
    from questgraph.server.http_protocol import protocol_class

    os.environ.update(settings_env(settings, demo=args.demo))
    own_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics adds up every worker's counters
        own_dir = tempfile.mkdtemp(prefix="questgraph-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_dir
    try:
        uvicorn.run("questgraph.server.asgi:app", factory=True, workers=args.workers, host=args.host,
                    port=args.port, log_level=args.log_level.lower(), access_log=False, proxy_headers=False,
                    http=protocol_class(args.http), **tls_options)
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


# --- HTTPS as graph.oculus.com: `serve --tls` and `questgraph ca` (server/tls.py, docs/drop-in.md) ----------
def _tls_files(tls_dir: Path | None) -> TlsFiles | None:
    """The authority and a current server certificate (made where needed), or None after saying why not."""
    try:
        from questgraph.server import tls
    except ImportError as exc:
        print(f"questgraph: --tls needs the server extra ({exc.name} is missing).\n"
              '  Install it with: pip install "questgraph[server]"', file=sys.stderr)
        return None
    directory = tls_dir or tls.default_dir()
    try:
        files = tls.ensure(directory)
    except (OSError, ValueError) as exc:
        print(f"questgraph: cannot make or read the TLS files in {directory}: {exc}\n"
              "  Pick a directory you can write with --tls-dir DIR (or QUESTGRAPH_TLS_DIR).", file=sys.stderr)
        return None
    return files


def _ca_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ca = sub.add_parser("ca", help="show questgraph's local certificate authority (serve --tls) and how to trust it",
                        description="Print where the local certificate authority of `serve --tls` is, its "
                        "fingerprint and how each kind of client trusts it (made first if it does not exist yet). "
                        "See docs/drop-in.md.")
    ca.add_argument("--tls-dir", type=Path, default=None,
                    help="where it is kept (default $QUESTGRAPH_TLS_DIR, else ~/.local/share/questgraph/tls)")
    ca.add_argument("--pem", action="store_true", help="print only the certificate (PEM), for a pipe")
    ca.add_argument("--out", type=Path, help="also write the certificate (PEM) to this file")


def ca_command(args: argparse.Namespace) -> int:
    files = _tls_files(args.tls_dir)
    if files is None:
        return 2
    from questgraph.server import tls

    pem = files.ca_cert.read_text()  # the certificate only: the key never leaves the directory
    if args.out is not None:
        try:
            args.out.write_text(pem)
        except OSError as exc:
            print(f"questgraph: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    if args.pem:
        print(pem, end="")
        return 0
    print(tls.trust_instructions(args.out or files.ca_cert))
    return 0


def _proxy_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    proxy = sub.add_parser("proxy", help="an HTTPS_PROXY that sends graph.oculus.com and auth.oculus.com to "
                           "`serve --tls` (and refuses every other host)",
                           description="A forward proxy for clients that honour HTTPS_PROXY: CONNECT to "
                           "graph.oculus.com:443 or auth.oculus.com:443 is tunnelled to questgraph's TLS port; any "
                           "other host is refused (403). See docs/drop-in.md.")
    proxy.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    proxy.add_argument("--port", type=int, default=3128, help="port to listen on (default 3128)")
    proxy.add_argument("--to", default="127.0.0.1:8443", type=_host_port,
                       help="where `questgraph serve --tls` listens (default 127.0.0.1:8443)")


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, like 127.0.0.1:8443")
    return host.strip("[]"), int(port)


def proxy_command(args: argparse.Namespace) -> int:
    from questgraph.server import meta_proxy

    busy = port_in_use(args.host, args.port)
    if busy is not None:
        print(busy, file=sys.stderr)
        return 2
    print(f"questgraph proxy on http://{args.host}:{args.port}: sends {' and '.join(meta_proxy.META_HOSTS)} "
          f"to {args.to[0]}:{args.to[1]}; every other host is refused.\n"
          f"  Use it: HTTPS_PROXY=http://{args.host}:{args.port} (and trust the authority: questgraph ca)",
          flush=True)
    meta_proxy.run(args.host, args.port, args.to)
    return 0


# --- admin and Graph commands, through the client (docs/client.md, "The command line") ---------------------
LOCAL_URL = "http://127.0.0.1:8080"


class CommandError(Exception):
    """A message for the user: what went wrong and what to do."""


MAX_ID = 2**63 - 1  # ids are int64 (D9)


def decimal_id(text: str) -> str:
    """An argparse type for object ids: decimal digits within int64, else argparse's one-line error."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id: ids are decimal digits, like 1234757621998335")
    return value


def _client_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", default=os.environ.get("QUESTGRAPH_BASE_URL", LOCAL_URL),
                        help=f"server to call (env QUESTGRAPH_BASE_URL; default {LOCAL_URL}; "
                             "https://graph.oculus.com for Meta)")
    common.add_argument("--admin-key", default=os.environ.get("QUESTGRAPH_ADMIN_KEY"),
                        help="admin key of a questgraph server (env QUESTGRAPH_ADMIN_KEY)")
    common.add_argument("--token", default=os.environ.get("QUESTGRAPH_ACCESS_TOKEN"),
                        help="access token for Graph calls, e.g. the app token OC|APP_ID|SECRET "
                             "(env QUESTGRAPH_ACCESS_TOKEN)")
    common.add_argument("--app-id", default=os.environ.get("QUESTGRAPH_APP_ID"),
                        help="app id, when --token is a user token (env QUESTGRAPH_APP_ID)")
    common.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default 10)")
    common.add_argument("--json", action="store_true", help="print JSON (for scripts) instead of tables")
    return common


USER_HELP = "a user: their id, or their alias with --app-id"


def _client_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = _client_options()

    def group(name: str, help: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        parser = sub.add_parser(name, help=help, description=help)
        return parser.add_subparsers(dest="action", required=True)

    def add(actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
            help: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help, description=help, parents=[common])

    orgs = group("orgs", "organizations (admin API)")
    add(orgs, "list", "list organizations with their apps")
    create = add(orgs, "create", "create an organization")
    create.add_argument("name", help="the organization's name")
    create.add_argument("--id", type=decimal_id, help="its id (15-17 digits; default: a new random id)")

    apps = group("apps", "apps and their secrets (admin API)")
    create = add(apps, "create", "create an app (its secret is shown once)")
    create.add_argument("org_id", type=decimal_id, help="the organization's id")
    create.add_argument("name", help="the app's name")
    create.add_argument("--id", type=decimal_id, help="its id (15-17 digits; default: a new random id)")
    create.add_argument("--secret", help="its secret, 16-128 letters or digits (default: random)")
    add(apps, "show", "show an app").add_argument("app_id", type=decimal_id, help="the app's id")
    for actions, name, text in ((apps, "rotate-secret", "give an app a new secret (the old one stops working at once)"),
                                (sub, "rotate-secret", "same as `apps rotate-secret`")):
        rotate = add(actions, name, text)
        rotate.add_argument("app_id", type=decimal_id, help="the app's id")
        rotate.add_argument("--secret", help="the new secret, 16-128 letters or digits (default: random)")

    users = group("users", "users of apps (admin API)")
    add(users, "list", "list an app's users").add_argument("app_id", type=decimal_id, help="the app's id")
    add(users, "show", "show a user").add_argument("user_id", type=user_ref, help=USER_HELP)
    create = add(users, "create", "create a user of an app (or add the person with that alias)")
    create.add_argument("app_id", type=decimal_id, help="the app's id")
    create.add_argument("alias", help="the person's alias (1-64 letters, digits, _ . -)")
    create.add_argument("--display-name", help="the name shown (default: the alias)")
    create.add_argument("--age-category", choices=["AD", "TN", "CH"], help="AD adult (default), TN teen, CH child")
    create.add_argument("--not-entitled", action="store_true", help="do not grant the app")

    tokens = group("tokens", "user access tokens (admin API)")
    mint = add(tokens, "mint", "mint a user access token")
    mint.add_argument("user_id", type=user_ref, help=USER_HELP)
    mint.add_argument("--ttl", type=positive_int, help="expire after this many seconds (default: never)")

    entitlements = group("entitlements", "entitlements (admin API)")
    grant = add(entitlements, "grant", "grant a user their app")
    grant.add_argument("user_id", type=user_ref, help=USER_HELP)
    grant.add_argument("--granted-at", type=unix_time, help="when it was granted: Unix seconds or an ISO date "
                       "such as 2026-01-31T12:00:00Z, not in the future (default: now)")

    boards = group("leaderboard", "leaderboards (Graph API, with --token)")
    add(boards, "list", "list the app's leaderboards")
    show = add(boards, "show", "show a leaderboard and its top entries")
    show.add_argument("name", help="the leaderboard's api_name")
    show.add_argument("--limit", type=positive_int, default=25, help="entries to show (default 25)")
    show.add_argument("--start-at", choices=["TOP", "OFFSET", "CENTERED_ON_VIEWER", "CENTERED_ON_VIEWER_OR_TOP"],
                      help="where the page starts (default TOP; CENTERED_* need a user token)")
    show.add_argument("--offset", type=positive_int, help="with --start-at OFFSET: ranks to skip")
    submit = add(boards, "submit", "submit a score (keep-best, unless --force)")
    submit.add_argument("name", help="the leaderboard's api_name")
    submit.add_argument("score", type=int, help="the score, a signed 64-bit integer")
    submit.add_argument("--user-id", type=user_ref, help="whose score, with an app token: " + USER_HELP
                        + " (and --admin-key to look the alias up)")
    submit.add_argument("--extra-data", help="text kept with the entry (sent as extra_data_base64)")
    submit.add_argument("--force", action="store_true", help="replace the entry even when the score is not better")

    from questgraph._cli_features import add_parsers  # achievements, IAP, subscriptions, account linking, state

    add_parsers(sub, common)
    from questgraph import _cli_federation  # federated users (A.2)

    _cli_federation.add_parsers(sub, common)
    _fault_parsers(sub, common)


# --- fault injection (docs/fault-injection.md) -------------------------------------------------------------
FAULT_COLUMNS = ["id", "method", "route", "app_id", "kind", "status", "code", "latency_ms", "probability", "remaining",
                 "hits"]


def _fault_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    text = "fault rules: make chosen Graph requests fail as Meta's do (admin API, emulator only)"
    actions = sub.add_parser("faults", help=text, description=text).add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list the rules", parents=[common])
    add = actions.add_parser("add", help="add a rule", parents=[common], description=(
        "Add a fault rule. Examples: `faults add --route 'POST /leaderboard_submit_entry' --status 503 --count 1`, "
        "`faults add --route /leaderboard_entries --latency-ms 2000 --probability 0.5 --seed 7`, "
        "`faults add --app 1234757621998335 --kind drop`."))
    add.add_argument("--route", help="a documented Graph path, or METHOD and path (default: every route)")
    add.add_argument("--app", dest="rule_app_id", type=decimal_id, metavar="APP_ID",
                     help="only this app's requests (not --app-id, which may come from QUESTGRAPH_APP_ID)")
    add.add_argument("--kind", choices=["error", "latency", "drop"], help="default: error (latency with --latency-ms)")
    add.add_argument("--status", type=positive_int, help="error: the HTTP status, 400-599 (default 503)")
    add.add_argument("--code", type=int, help="error: the envelope's code (default: Meta's for the status)")
    add.add_argument("--error-subcode", type=positive_int, help="error: an error_subcode")
    add.add_argument("--message", help="error: the message (default: Meta's for the status)")
    add.add_argument("--transient", dest="is_transient", choices=["true", "false"], help="error: is_transient")
    add.add_argument("--latency-ms", type=positive_int, help="latency: the delay, 1-60000 ms")
    add.add_argument("--count", type=positive_int, help="only the next N matching requests")
    add.add_argument("--probability", type=float, help="the share of matching requests, 0-1 (default 1)")
    add.add_argument("--seed", type=int, help="with --probability: repeatable draws")
    delete = actions.add_parser("delete", help="delete one rule", parents=[common])
    delete.add_argument("rule_id", type=decimal_id, help="the rule's id")
    actions.add_parser("clear", help="delete every rule", parents=[common])


def _faults(args: argparse.Namespace) -> str:
    with _admin(args) as admin:
        graph = admin._client  # the admin API's routes under /_admin, through the client's one send path
        if args.action == "list":
            return _out(args, graph.raw("GET", "/_admin/faults")["data"], FAULT_COLUMNS, many=True)
        if args.action == "add":
            names = ("route", "kind", "status", "code", "error_subcode", "message", "is_transient",
                     "latency_ms", "count", "probability", "seed")
            from questgraph.client._base import Call, params

            values = params(app_id=args.rule_app_id, **{n: getattr(args, n) for n in names})
            rule = graph.send(Call("POST", "/_admin/faults", values))  # not raw(): a rule has a "method" field
            return _out(args, [rule], FAULT_COLUMNS)
        if args.action == "delete":
            graph.raw("DELETE", f"/_admin/faults/{args.rule_id}")
            return _json({"success": True}) if args.json else f"fault rule {args.rule_id} deleted"
        deleted = graph.raw("DELETE", "/_admin/faults")["deleted"]
        return _json({"success": True, "deleted": deleted}) if args.json else f"{deleted} fault rules deleted"


def positive_int(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    value = text.strip()
    if not value.isdigit() or len(value) > 18:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 or more)")
    return int(value)


def unix_time(text: str) -> int:
    """An argparse type: Unix seconds, or an ISO 8601 date or time (UTC unless it says otherwise)."""
    value = text.strip()
    if value.isdigit() and len(value) <= 12:
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: give Unix seconds (1767225600) or an ISO date "
                                         "(2026-01-01 or 2026-01-01T00:00:00Z)") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


_ALIAS = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def user_ref(text: str) -> str:
    """An argparse type for a user: an id (decimal digits) or an alias, looked up in ``--app-id``'s app."""
    value = text.strip()
    if value.isascii() and value.isdigit():
        return decimal_id(value)
    if not _ALIAS.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{text!r} is neither a user id (decimal digits) nor an alias "
                                         "(1-64 letters, digits, _ . -)")
    return value


def user_id_of(args: argparse.Namespace, ref: str, admin: Any = None) -> str:
    """The id of a user named by id or alias: an alias is looked up among ``--app-id``'s users."""
    if ref.isdigit():
        return ref
    token = getattr(args, "token", None) or ""
    if not args.app_id and token.startswith("OC|") and token.count("|") == 2:  # an app token names its app
        args.app_id = token.split("|")[1]
    if not args.app_id:
        raise CommandError(f"{ref!r} is an alias: name its app with --app-id APP_ID (or QUESTGRAPH_APP_ID), "
                           "or give the user's id")
    if admin is None:
        if not args.admin_key:
            raise CommandError(f"{ref!r} is an alias, which only the admin API can look up: pass --admin-key KEY "
                               "(or QUESTGRAPH_ADMIN_KEY), or give the user's id")
        with _admin(args) as own:
            return user_id_of(args, ref, own)
    if not str(args.app_id).strip().isdigit():
        raise CommandError(f"--app-id {args.app_id!r} is not an id: ids are decimal digits, like 1234757621998335")
    found = next((u.id for u in admin.users(str(args.app_id).strip()) if u.alias == ref), None)
    if found is None:
        raise CommandError(f"app {args.app_id} has no user with alias {ref!r} (questgraph users list {args.app_id})")
    return str(found)


def run_client_command(args: argparse.Namespace) -> int:
    from questgraph.client import QuestGraphError

    try:
        result = _dispatch(args)
    except CommandError as exc:
        print(f"questgraph: {exc}", file=sys.stderr)
        return 1
    except QuestGraphError as exc:
        print(f"questgraph: {_explain(exc, args)}", file=sys.stderr)
        return 1
    except ValueError as exc:  # the client refused an argument before sending anything
        print(f"questgraph: {exc}", file=sys.stderr)
        return 2
    print(result)
    return 0


def _admin(args: argparse.Namespace) -> Any:
    from questgraph.client import AdminClient

    if not args.admin_key:
        raise CommandError("this is an admin call and no admin key was given.\n"
                           "  Pass --admin-key KEY or set QUESTGRAPH_ADMIN_KEY (`questgraph serve` prints the key).")
    return AdminClient(args.base_url, admin_key=args.admin_key, timeout=args.timeout)


def _graph(args: argparse.Namespace) -> Any:
    from questgraph.client import Client

    if not args.token:
        raise CommandError("this is a Graph call and no access token was given.\n"
                           "  Pass --token 'OC|APP_ID|APP_SECRET' or set QUESTGRAPH_ACCESS_TOKEN.")
    client = Client(access_token=args.token, app_id=args.app_id, base_url=args.base_url, timeout=args.timeout)
    if client.app_id is None:
        client.close()
        raise CommandError("--token is not an app token (OC|APP_ID|SECRET): give the app id too "
                           "with --app-id or QUESTGRAPH_APP_ID.")
    return client


def _dispatch(args: argparse.Namespace) -> str:
    command, action = args.command, getattr(args, "action", None)
    if command == "rotate-secret":
        command, action = "apps", "rotate-secret"
    from questgraph import _cli_features

    if command in _cli_features.COMMANDS:
        return _cli_features.dispatch(args)
    if command == "faults":
        return _faults(args)
    from questgraph import _cli_federation

    if command in _cli_federation.COMMANDS:
        return _cli_federation.dispatch(args)
    if command == "leaderboard":
        with _graph(args) as client:
            if action == "list":
                return _out(args, client.leaderboards.list(), ["api_name", "id", "sort_order", "entry_write_policy",
                                                              "entry_count", "title"], many=True)
            if action == "submit":
                user_id = None if args.user_id is None else user_id_of(args, args.user_id)
                done = client.leaderboards.submit_entry(
                    args.name, args.score, user_id=user_id, force_update=args.force,
                    extra_data=None if args.extra_data is None else args.extra_data.encode())
                if args.json:
                    return _json(done)
                return ("the entry was written" if done.did_update
                        else "not written: the stored score is as good or better (--force replaces it)")
            board = client.leaderboards.get(args.name)
            entries = list(itertools.islice(client.leaderboards.entries(
                args.name, start_at=args.start_at, offset=args.offset, limit=min(max(args.limit, 1), 100)),
                max(args.limit, 0)))
            if args.json:
                return _json({"leaderboard": board, "entries": entries})
            head = (f"{board.api_name} (id {board.id}): {board.sort_order}, {board.entry_write_policy}, "
                    f"{board.entry_count} entries" + (f" - {board.title}" if board.title else ""))
            rows = [{"rank": e.rank, "user": e.user.alias if e.user else None, "user_id": e.user.id if e.user else None,
                     "score": e.score, "timestamp": e.timestamp, "extra_data": _extra(e.extra_data), "entry_id": e.id}
                    for e in entries]
            return head + "\n" + _table(rows, ["rank", "user", "user_id", "score", "timestamp", "extra_data",
                                               "entry_id"])
    with _admin(args) as admin:
        if command == "orgs" and action == "list":
            orgs = admin.orgs()
            if args.json:
                return _json(orgs)
            rows = [{"org_id": o.id, "org": o.name, "app_id": a.id, "app": a.name}
                    for o in orgs for a in (o.apps or [None]) if a] + [
                    {"org_id": o.id, "org": o.name, "app_id": "", "app": "(no apps)"} for o in orgs if not o.apps]
            return _table(rows, ["org_id", "org", "app_id", "app"])
        if command == "orgs":
            return _out(args, [admin.create_org(args.name, id=args.id)], ["id", "name"])
        if command == "apps" and action == "create":
            made = admin.create_app(args.org_id, args.name, id=args.id, secret=args.secret)
            return _out(args, [made], ["id", "org_id", "name", "secret", "app_access_token"],
                        note="The secret is shown only now: keep it.")
        if command == "apps" and action == "show":
            return _out(args, [admin.get_app(args.app_id)], ["id", "org_id", "name"])
        if command == "apps":
            made = admin.rotate_secret(args.app_id, secret=args.secret)
            return _out(args, [made], ["id", "name", "secret", "app_access_token"],
                        note="The old secret no longer works. The new one is shown only now: keep it.")
        user_columns = ["id", "alias", "display_name", "age_category", "entitled", "org_scoped_id", "app_id"]
        if command == "users" and action == "list":
            return _out(args, admin.users(args.app_id), user_columns, many=True)
        if command == "users" and action == "show":
            return _out(args, [admin.get_user(user_id_of(args, args.user_id, admin))], user_columns)
        if command == "users":
            return _out(args, [admin.create_user(args.app_id, args.alias, display_name=args.display_name,
                                                 age_category=args.age_category, entitled=not args.not_entitled)],
                        user_columns)
        if command == "tokens":
            token = admin.mint_token(user_id_of(args, args.user_id, admin), ttl_seconds=args.ttl)
            return _json({"access_token": token}) if args.json else token
        if command == "entitlements":
            user_id = user_id_of(args, args.user_id, admin)
            admin.grant_entitlement(user_id, granted_at=args.granted_at)
            return _json({"success": True}) if args.json else f"user {user_id} is entitled to their app"
    raise CommandError(f"unknown command {command} {action}")  # pragma: no cover - argparse refuses it first


def _explain(exc: Exception, args: argparse.Namespace) -> str:
    """The error, and what to do about it."""
    from questgraph._cli_features import GRAPH_COMMANDS
    from questgraph.client import AuthError, GraphError, NotFound, PermissionDenied, TransportError

    admin = args.command not in ("leaderboard", *GRAPH_COMMANDS, "federated-users")
    if isinstance(exc, TransportError):
        return (f"cannot reach {args.base_url} ({exc}).\n"
                "  Is the server running (`questgraph serve`)? Point --base-url or QUESTGRAPH_BASE_URL at it.")
    message = exc.message.rstrip(".") if isinstance(exc, GraphError) else ""  # the server's own full stop
    if isinstance(exc, AuthError | PermissionDenied) and admin and exc.status in (401, 403) and exc.code in (104, 200):
        return (f"the admin key was refused: {message}.\n"
                "  Pass the server's key with --admin-key or QUESTGRAPH_ADMIN_KEY (`questgraph serve` prints it).")
    if isinstance(exc, AuthError):
        return (f"the access token was refused: {message}.\n"
                "  Pass a valid app token with --token 'OC|APP_ID|APP_SECRET' or QUESTGRAPH_ACCESS_TOKEN.")
    if isinstance(exc, NotFound):
        return f"not found: {message}"
    if isinstance(exc, GraphError):
        return f"{exc.message} (HTTP {exc.status}, code {exc.code})"
    return str(exc)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):  # Graph's own time format (§0.5), in tables and JSON alike
        return value.strftime(TIME_FORMAT)
    return value


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# Columns that hold a time: in tables every time is shown in Graph's format (§0.5), whether the server
# answered Unix seconds or a date; 0 (an achievement not unlocked yet) is blank. --json keeps the answer's form.
TIME_COLUMNS = frozenset({"timestamp", "unlock_time", "grant_time", "expiration_time", "period_end", "renews",
                          "cancelled", "granted_at", "expires_at", "consumed_at", "refunded_at", "created_at", "now"})


def money(hundredths: int | None, currency: str | None) -> str | None:
    """One format for every price of a table: ``2.99 USD`` (prices are hundredths, §3.4)."""
    if hundredths is None:
        return None
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{abs(hundredths) // 100}.{abs(hundredths) % 100:02d} {currency or ''}".rstrip()


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in TIME_COLUMNS and isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC).strftime(TIME_FORMAT) if value else ""
        except (ValueError, OverflowError, OSError):  # beyond what a date can say: the number itself
            return str(value)
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2)


def _extra(data: bytes | None) -> str:
    if not data:
        return ""
    text = data.decode("utf-8", "replace")
    return text if text.isprintable() else base64.b64encode(data).decode()


def _out(args: argparse.Namespace, items: list[Any], columns: list[str], note: str | None = None,
         many: bool = False) -> str:
    """A table, or with --json a JSON list (``many``) or object."""
    if args.json:
        return _json(items if many else items[0])
    text = _table([_plain(i) for i in items], columns)
    return f"{text}\n{note}" if note else text


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Columns aligned under their headers; an empty list says so."""
    if not rows:
        return "(none)"
    cells = [[_cell(c, row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)
