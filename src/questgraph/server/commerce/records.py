"""Records of in-app purchases and subscriptions (graph-api.md §3, §6), as ``commerce/store.py`` hands
them to the service.

The purchase history is append-only in spirit: a grant is a row; consuming or refunding it marks that row
(``consumed_at`` / ``refunded_at``) and never deletes it, so an item can be granted again after it was
consumed and the history still shows every grant, consume and refund with its time (D28).

Single-use transitions are conditional updates (``… WHERE consumed_at IS NULL AND refunded_at IS NULL``)
whose row count says whether this call won, so a backend that runs calls in parallel keeps them exact.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IapItem:
    """One catalogue item of an app (D29): prices are integers in hundredths of the currency unit."""

    id: int
    app_id: int
    sku: str
    item_type: str  # DURABLE | CONSUMABLE | SUBSCRIPTION
    name: str
    description: str
    price_hundredths: int
    currency: str
    offer_id: int  # the object id of its current offer (D9), stable across reads
    subscription_term: str | None  # SUBSCRIPTION only: WEEKLY, MONTHLY, …
    trial_type: str | None  # FREE_TRIAL | INTRO_OFFER, SUBSCRIPTION only
    trial_term: str | None
    trial_max_term_count: int | None
    trial_price_hundredths: int | None
    trial_offer_id: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class Purchase:
    """One grant of a DURABLE or CONSUMABLE item; consumes and refunds mark it, never delete it."""

    id: int
    app_id: int
    user_id: int
    item_id: int
    granted_at: int
    expires_at: int | None
    consumed_at: int | None
    refunded_at: int | None
    refund_reason: str | None

    def owned_at(self, now: int) -> bool:
        """Owned: not consumed, not refunded, not expired (D28)."""
        return (self.consumed_at is None and self.refunded_at is None
                and (self.expires_at is None or now < self.expires_at))


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as last written. Its state at any instant is derived from the clock (D36): periods
    follow ``add_term(anchor, k)``; ``renewals`` is the k of the period current when the row was written.
    Period 0 starts at ``period_start0`` and ends at ``anchor`` (a trial when ``trial_at_zero``)."""

    id: int
    app_id: int
    user_id: int
    item_id: int
    started_at: int
    period_start0: int
    anchor: int
    renewals: int
    trial_at_zero: bool
    auto_renew: bool
    cancelled_at: int | None
    cancel_reason: int | None
    extension_days: int
