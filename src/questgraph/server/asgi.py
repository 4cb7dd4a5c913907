"""ASGI entry point for running questgraph under an ASGI server with several worker processes.

A worker process cannot receive a ``Server`` object, only an import string, so the settings travel as
environment variables. ``questgraph serve --workers N`` sets them and runs the equivalent of::

    QUESTGRAPH_DATABASE=postgresql://qg@db/qg QUESTGRAPH_RANK_INDEX=redis://redis:6379/0 \\
    QUESTGRAPH_ADMIN_KEY=… uvicorn --factory questgraph.server.asgi:app --workers 4 --host 0.0.0.0 \\
        --port 8080 --no-access-log --no-proxy-headers

Every process then shares the database and the Redis rank index; see docs/deployment.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from questgraph.server import serve_options
from questgraph.server.app import GraphAsgiApp, Server
from questgraph.server.settings import Settings
from questgraph.server.world import World

ENV_PREFIX = "QUESTGRAPH_"
_TRUE = ("1", "true", "yes", "on")


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(ENV_PREFIX + name, "").strip().lower() in _TRUE


def settings_from_env(env: Mapping[str, str] = os.environ) -> tuple[Settings, World | None]:
    """The settings (and world) that ``settings_env`` wrote, or an operator's own variables."""
    def get(name: str) -> str | None:
        return env.get(ENV_PREFIX + name) or None

    config = get("CONFIG")
    world = World.demo() if _flag(env, "DEMO") else World.load(Path(config)) if config else None
    settings = Settings(
        database=get("DATABASE") or "questgraph.sqlite3",
        config=Path(config) if config else None,
        public_url=get("PUBLIC_URL"),
        trust_forwarded=_flag(env, "TRUST_FORWARDED_HEADERS"),
        admin_key=get("ADMIN_KEY") or (world.admin_key if world else None),
        emulator=not _flag(env, "PRODUCTION"),
        rank_index=get("RANK_INDEX"),
    )
    if get("MAX_BODY_BYTES"):
        settings.max_body_bytes = int(env[ENV_PREFIX + "MAX_BODY_BYTES"])
    for name, check in (("SSO_PUBLIC_URL", serve_options.sso_public_url),
                        ("INSPECTOR_SIZE", serve_options.inspector_size),
                        ("INSPECTOR_SAMPLE_RATE", serve_options.inspector_sample_rate),
                        ("DOMAIN_LANES", serve_options.domain_lanes),
                        ("MAX_ADMIN_BODY_BYTES", serve_options.max_admin_body_bytes)):
        text = get(name)
        if text is not None:
            try:
                setattr(settings, name.lower(), check(text))
            except ValueError as exc:
                raise ValueError(f"{ENV_PREFIX}{name}: {exc}") from None
    return settings, world


def settings_env(settings: Settings, demo: bool = False) -> dict[str, str]:
    """The environment that makes ``settings_from_env`` give back ``settings``."""
    env = {
        "DATABASE": settings.database,
        "CONFIG": str(settings.config) if settings.config and not demo else "",
        "DEMO": "1" if demo else "",
        "PUBLIC_URL": settings.public_url or "",
        "TRUST_FORWARDED_HEADERS": "1" if settings.trust_forwarded else "",
        "ADMIN_KEY": settings.admin_key or "",
        "PRODUCTION": "" if settings.emulator else "1",
        "RANK_INDEX": settings.rank_index or "",
        "MAX_BODY_BYTES": str(settings.max_body_bytes),
        "SSO_PUBLIC_URL": settings.sso_public_url or "",
        "INSPECTOR_SIZE": str(settings.inspector_size),
        "INSPECTOR_SAMPLE_RATE": "" if settings.inspector_sample_rate is None else repr(settings.inspector_sample_rate),
        "DOMAIN_LANES": str(settings.domain_lanes),
        "MAX_ADMIN_BODY_BYTES": str(settings.max_admin_body_bytes),
    }
    return {ENV_PREFIX + name: value for name, value in env.items()}


def app() -> GraphAsgiApp:
    """The factory a worker calls (``--factory``): one ``Server`` per process."""
    settings, world = settings_from_env()
    return Server(settings, world).asgi()
