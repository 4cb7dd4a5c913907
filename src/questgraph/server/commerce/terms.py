"""Billing terms, prices and timestamps of subscriptions (graph-api.md §3.4, §6; D29, D36).

Calendar terms (MONTHLY, QUARTERLY, SEMIANNUAL, ANNUAL) count months from an anchor with the day clamped
to the month's length, always from the anchor (Jan 31 → Feb 28 → Mar 31), so renewals never drift.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

DAY = 86_400
TERMS = ("WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUAL", "ANNUAL")
_DAYS = {"WEEKLY": 7, "BIWEEKLY": 14}
_MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "SEMIANNUAL": 6, "ANNUAL": 12}
TRIAL_TYPES = ("FREE_TRIAL", "INTRO_OFFER")
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def add_terms(anchor: int, term: str, count: int) -> int:
    """``anchor`` (Unix seconds) plus ``count`` terms."""
    if term in _DAYS:
        return anchor + count * _DAYS[term] * DAY
    months = _MONTHS[term] * count
    start = datetime.fromtimestamp(anchor, UTC)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def term_seconds_hint(term: str) -> int:
    """A lower bound of one term in seconds (28 days for a month), to size loops and limits."""
    if term in _DAYS:
        return _DAYS[term] * DAY
    return _MONTHS[term] * 28 * DAY


def iso(ts: int) -> str:
    """The ISO-8601 form of §6 / §0.5: ``2021-03-09T13:04:20+0000``."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=ts)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def decimal_price(hundredths: int) -> str:
    """``199`` → ``"1.99"`` (the subscription price terms: a string without a currency symbol)."""
    sign = "-" if hundredths < 0 else ""
    whole, cents = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{cents:02d}"


def formatted_price(hundredths: int, currency: str) -> str:
    """``299, USD`` → ``"$2.99"`` (the catalogue's ``formatted``); unknown currencies as ``"2.99 CHF"``."""
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{decimal_price(hundredths)}" if symbol else f"{decimal_price(hundredths)} {currency}"
