"""The HTML of the dashboard: Jinja2 templates in ``dashboard/templates/``, autoescaped, so every
value a page shows is escaped; nothing here builds HTML by hand.

Accessibility: a skip link, one ``h1`` per page, ``header``/``nav``/``main`` landmarks, ``aria-current`` on
the active link, a label on every control, ``caption``s on tables, errors in ``role="alert"`` boxes, visible
focus rings and 4.5:1 contrast (dashboard.css). JavaScript only adds copy buttons.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def utc(seconds: int) -> str:
    """A Unix time as the dashboard shows it; empty when it is not a time a date can hold."""
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return ""


def local_input(seconds: int | None) -> str:
    """A value for ``<input type="datetime-local">`` (UTC, as every time on the dashboard)."""
    if seconds is None:
        return ""
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M")
    except (OverflowError, OSError, ValueError):
        return ""


@dataclass(frozen=True)
class ExtraData:
    shown: str  # the text when it is printable UTF-8, else its base64; cut at EXTRA_SHOWN characters
    base64: str  # all of it, as the Graph API's extra_data_base64


EXTRA_SHOWN = 60


def extra_data(data: bytes) -> ExtraData | None:
    """A leaderboard entry's extra_data as the board page shows it; None when there is none."""
    if not data:
        return None
    encoded = base64.b64encode(data).decode()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    shown = text if text and text.isprintable() else f"base64 {encoded}"
    return ExtraData(shown if len(shown) <= EXTRA_SHOWN else shown[:EXTRA_SHOWN - 1] + "…", encoded)


def pairs(values: Iterable[str]) -> list[tuple[str, str]]:
    """Choices of a select whose values are also their labels."""
    return [(v, v) for v in values]


def _environment() -> Environment:
    # Built once, at import: templates are compiled on first use and kept (no reload checks per request).
    # StrictUndefined: a name missing from a page's context is an error in the tests, not a blank on the page.
    env = Environment(loader=PackageLoader("questgraph.server.dashboard", "templates"),
                      autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters.update(utc=utc, local_input=local_input, extra_data=extra_data)
    env.globals.update(pairs=pairs)
    return env


_ENV = _environment()


def render(name: str, **context: object) -> str:
    return _ENV.get_template(name).render(**context)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    start: int
    stop: int
    count: int


@dataclass(frozen=True)
class Histogram:
    """The score distribution of a leaderboard, laid out for the SVG of leaderboard.html."""

    bars: list[Bar]
    low: int
    high: int
    peak: int
    label: str  # the text summary: the image's label and its caption
    width: int = 640
    height: int = 220
    pad: int = 32


def histogram(scores: Sequence[int], bins: int = 20, sampled: bool = False) -> Histogram | None:
    """``bins`` bars over the range of the scores (one when they are all equal); None without scores."""
    if not scores:
        return None
    low, high = min(scores), max(scores)
    span = max(high - low, 1)
    count = bins if high > low else 1
    counts = [0] * count
    for score in scores:
        counts[min((score - low) * count // span, count - 1) if high > low else 0] += 1
    peak = max(counts)
    shape = Histogram([], low, high, peak, "")
    bar = (shape.width - 2 * shape.pad) / count
    bars = []
    for i, n in enumerate(counts):
        h = 0 if peak == 0 else (shape.height - 2 * shape.pad) * n / peak
        start = low + span * i // count
        stop = low + span * (i + 1) // count if high > low else high
        bars.append(Bar(shape.pad + i * bar, shape.height - shape.pad - h, max(bar - 2, 1), h, start, stop, n))
    label = (f"Score distribution of {len(scores)} entries{' (a sample)' if sampled else ''}: "
             f"lowest {low}, highest {high}, most entries in one band {peak}")
    return Histogram(bars, low, high, peak, label)
