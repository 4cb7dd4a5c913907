"""When a failed call is tried again, and how long to wait first (docs/client.md, "Retries").

A call is tried again only when a repeat cannot do harm:

* the request never reached the server (connection refused, connect timeout) or the server refused it
  without acting (429, code 4): any call;
* a transient failure after the request may have been acted on (5xx, ``is_transient``, a read timeout,
  a dropped connection): only calls marked *safe* — reads, and the writes whose repeat leaves the same
  state AND gives the same answer (leaderboard and achievement upserts, remove-all,
  cancel_subscription, the admin grants of an app). Never: a submit (a keep-best repeat answers
  did_update=False for the client's own write), force_unlock and add_bits (the repeat answers
  just_unlocked=False), add_count, consume, refund, extend, the SSO code exchange (single use, D32) and
  refresh (rotation with reuse detection, D34).

The wait is exponential with jitter, bounded by ``max_delay``; a ``Retry-After`` header is honoured up
to that bound.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from questgraph.client._errors import ConnectionFailed, GraphError, QuestGraphError, RequestTimeout, TransportError


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a client repeats a failed call.

    ``attempts`` counts the first try (``attempts=1`` disables retries). The n-th wait (n from 0) is
    ``min(max_delay, base_delay * 2**n)`` scaled by a random factor in ``[0.5, 1]`` (equal jitter), or the
    server's ``Retry-After`` when that is longer, never more than ``max_delay``.
    """

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 8.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def should_retry(self, error: QuestGraphError, attempt: int, safe: bool) -> bool:
        """Whether to try again after ``error`` on try number ``attempt`` (0-based)."""
        if attempt + 1 >= self.attempts:
            return False
        if isinstance(error, ConnectionFailed):  # nothing was sent: safe to repeat for any call
            return True
        if isinstance(error, GraphError):
            if error.status == 429 or error.code == 4:
                return True  # refused before acting: a repeat is harmless even for a write
            return safe and (error.is_transient or error.status >= 500)
        if isinstance(error, RequestTimeout | TransportError):
            return safe
        return False

    def delay(self, attempt: int, error: QuestGraphError) -> float:
        """Seconds to wait before try number ``attempt + 1``."""
        backoff: float = min(self.max_delay, self.base_delay * (2 ** attempt)) * self.rng.uniform(0.5, 1.0)
        retry_after = error.retry_after if isinstance(error, GraphError) else None
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(self.max_delay, backoff)


NO_RETRY = RetryPolicy(attempts=1)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the delta-seconds form; an HTTP date is ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
