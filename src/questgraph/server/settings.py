"""How one server process is configured (command-line flags and environment, see docs/config.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Settings:
    database: str = "questgraph.sqlite3"  # a SQLite file, sqlite:///path or ":memory:"; or postgresql://…
    config: Path | None = None  # a world file (TOML) applied to an empty database
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None  # base of paging URLs; else the request's own scheme and host
    trust_forwarded: bool = False  # honour X-Forwarded-Proto/-Host and Forwarded (behind a proxy only)
    admin_key: str | None = None  # protects /_admin; None disables the admin API
    emulator: bool = True  # the clock may be moved (D36); off in production
    max_body_bytes: int = 10 * 1024 * 1024
    # The admin API's own limit: a snapshot import carries the whole database (--max-admin-body-bytes).
    max_admin_body_bytes: int = 1024 * 1024 * 1024
    rank_index: str | None = None  # None or "memory": in this process; redis://host:port/db: shared
    inspector_size: int = 200  # Graph requests kept per app by the dashboard's request inspector; 0 turns it off
    inspector_sample_rate: float | None = None  # share of requests kept; None: all in emulator mode, none in production
    # Base URL browsers reach the SSO page at, when it differs from public_url (D30): the page is {it}/sso/.
    sso_public_url: str | None = None
    # Trips of domain calls run at once (server/executor.py), on PostgreSQL + Redis only: elsewhere one.
    domain_lanes: int = 4
    # serve --tls: the directory of the local certificate authority and server certificate (server/tls.py);
    # None: plain HTTP.
    tls_dir: str | None = None
