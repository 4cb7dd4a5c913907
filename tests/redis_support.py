"""Redis for the tests of the shared rank index (issue 6): where it is, and a private corner of it per test.

Redis is expected at 127.0.0.1:6379 (no auth), as on CI. When the environment variable ``CI`` is set
the Redis tests must run, so an unreachable Redis is a failure there; locally they skip, saying why.
Each test gets its own key prefix (and the flush tests their own database number), removed at teardown.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import skip_or_fail

REDIS_HOST, REDIS_PORT = "127.0.0.1", int(os.environ.get("QG_REDIS_PORT", "6379"))
FLUSH_DB = 13  # the database the FLUSHDB tests may wipe; nothing else uses it


def redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


def require_redis() -> None:
    """Skip locally, fail on CI, when Redis is not there (or the redis extra is not installed)."""
    reason = None
    try:
        import redis  # noqa: F401
    except ImportError:
        reason = "the redis client is not installed (pip install 'questgraph[redis]')"
    if reason is None and not redis_reachable():
        reason = f"no Redis at {REDIS_HOST}:{REDIS_PORT} (CI has one; start redis-server to run these tests)"
    if reason is not None:
        skip_or_fail(reason)


def redis_url(db: int = 0, prefix: str | None = None) -> str:
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
    return url if prefix is None else f"{url}?prefix={prefix}"


def drop_prefix(prefix: str, db: int = 0) -> None:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    try:
        names = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if names:
            client.unlink(*names)
    finally:
        client.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix in database 0, deleted at teardown."""
    require_redis()
    prefix = f"qgtest-{secrets.token_hex(6)}"
    yield prefix
    drop_prefix(prefix)
