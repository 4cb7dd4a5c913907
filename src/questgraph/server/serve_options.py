"""Checks of the ``questgraph serve`` settings that have no obvious type: the request inspector's size and
sample rate, the SSO page's public base URL (D30), the domain lanes and the admin API's body limit. Used by the
command line (cli.py) and by the environment a worker process reads (asgi.py), so both refuse the same
values with the same message.

Each returns the value to use or raises ``ValueError`` with a message that says what is accepted (the caller
names the flag or variable).
This module imports nothing heavy: the command line calls it while parsing its arguments.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

INSPECTOR_MAX_SIZE = 100_000  # the same bound as dashboard/inspector.py MAX_SIZE (a memory bound per app)
DOMAIN_LANES_MAX = 32  # each lane may hold two database connections (db/postgres.py)


def domain_lanes(text: str) -> int:
    """Trips of domain calls a process runs at once on PostgreSQL + Redis: 1 to DOMAIN_LANES_MAX."""
    value = text.strip()
    if not value.isdigit() or len(value) > 3 or not 1 <= int(value) <= DOMAIN_LANES_MAX:
        raise ValueError(f"must be a whole number from 1 to {DOMAIN_LANES_MAX}, not {text[:40]!r}")
    return int(value)


MAX_ADMIN_BODY_LIMIT = 64 * 1024**3  # a snapshot is held in memory whole: beyond this, no machine has room


def max_admin_body_bytes(text: str) -> int:
    """The admin API's body limit in bytes (a snapshot import carries the whole database); ``k``, ``M`` or
    ``G`` (binary: 1024) may follow the number."""
    value = text.strip()
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(value[-1:].upper(), 1)
    digits = value[:-1] if scale > 1 else value
    if not digits.isdigit() or len(digits) > 12 or not 1 <= int(digits) * scale <= MAX_ADMIN_BODY_LIMIT:
        raise ValueError(f"must be a number of bytes from 1 to {MAX_ADMIN_BODY_LIMIT} (64G), optionally "
                         f"followed by K, M or G, such as 2G, not {text[:40]!r}")
    return int(digits) * scale


def inspector_size(text: str) -> int:
    """Graph requests kept per app: 0 (off) to INSPECTOR_MAX_SIZE."""
    value = text.strip()
    if not value.isdigit() or len(value) > 7 or int(value) > INSPECTOR_MAX_SIZE:
        raise ValueError(f"must be a whole number from 0 (off) to {INSPECTOR_MAX_SIZE}, "
                         f"not {text[:40]!r}")
    return int(value)


def inspector_sample_rate(text: str) -> float:
    """Share of Graph requests kept: 0 (none) to 1 (all); "50%" is read as 0.5."""
    value = text.strip()
    try:
        rate = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or not 0.0 <= rate <= 1.0:
        raise ValueError(f"must be a number from 0 (keep none) to 1 (keep all), such as "
                         f"0.1 or 10%, not {text[:40]!r}")
    return rate


def sso_public_url(text: str) -> str:
    """The base URL browsers reach the SSO page at: ``http(s)://host[:port][/path]``, the page then being
    ``{base}/sso/``. Kept without its trailing slash."""
    value = text.strip()
    problem = None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        problem = "it is not a URL"
    else:
        if parts.scheme not in ("http", "https") or not value.lower().startswith(parts.scheme + "://"):
            problem = "it must start with http:// or https://"
        elif not parts.hostname:
            problem = "it has no host"
        elif parts.username is not None or parts.password is not None:
            problem = "it must not hold a user name or password"
        elif parts.query or parts.fragment or "?" in value or "#" in value:
            problem = "it must not have a ?query or #fragment"
        elif not value.isascii() or any(c.isspace() or ord(c) < 0x20 for c in value) or "\\" in value:
            problem = "it must be plain ASCII without spaces or backslashes"
        elif parts.path.rstrip("/").endswith("/sso"):
            problem = "give the base URL: the page is {base}/sso/, so leave /sso off"
    if problem is not None:
        raise ValueError(f"{text[:100]!r}: {problem} (for example https://accounts.example.com)")
    return value.rstrip("/")
