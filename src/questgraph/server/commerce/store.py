"""Commerce's tables (iap_items, purchases, subscriptions: the IAP catalogue, the purchase history and
subscriptions) in portable SQL, shared by SQLite and PostgreSQL (``db/core.py``). The base app's
entitlement is identity's (``IdentityStore.base_entitlement_time``, D27)."""

from __future__ import annotations

from typing import Any

from questgraph.server.commerce.records import IapItem, Purchase, Subscription
from questgraph.server.db.core import Database

ITEM_COLUMNS = (
    "id, app_id, sku, item_type, name, description, price_hundredths, currency, offer_id, subscription_term, "
    "trial_type, trial_term, trial_max_term_count, trial_price_hundredths, trial_offer_id, created_at"
)
PURCHASE_COLUMNS = "id, app_id, user_id, item_id, granted_at, expires_at, consumed_at, refunded_at, refund_reason"
SUB_COLUMNS = (
    "id, app_id, user_id, item_id, started_at, period_start0, anchor, renewals, trial_at_zero, auto_renew, "
    "cancelled_at, cancel_reason, extension_days"
)


def _sub(row: Any) -> Subscription:
    values = list(row)
    values[8], values[9] = bool(values[8]), bool(values[9])
    return Subscription(*values)


class CommerceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- catalogue --------------------------------------------------------------------------------
    def insert_iap_item(self, item: IapItem) -> None:
        self.db.run(f"INSERT INTO iap_items ({ITEM_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                    (item.id, item.app_id, item.sku, item.item_type, item.name, item.description,
                     item.price_hundredths, item.currency, item.offer_id, item.subscription_term, item.trial_type,
                     item.trial_term, item.trial_max_term_count, item.trial_price_hundredths, item.trial_offer_id,
                     item.created_at))

    def get_iap_item(self, item_id: int) -> IapItem | None:
        row = self.db.one(f"SELECT {ITEM_COLUMNS} FROM iap_items WHERE id = ?", (item_id,))
        return None if row is None else IapItem(*row)

    def find_iap_item(self, app_id: int, sku: str) -> IapItem | None:
        row = self.db.one(f"SELECT {ITEM_COLUMNS} FROM iap_items WHERE app_id = ? AND sku = ?", (app_id, sku))
        return None if row is None else IapItem(*row)

    def list_iap_items(self, app_id: int) -> list[IapItem]:
        rows = self.db.all(f"SELECT {ITEM_COLUMNS} FROM iap_items WHERE app_id = ? ORDER BY sku", (app_id,))
        return [IapItem(*r) for r in rows]

    # --- purchases --------------------------------------------------------------------------------
    def insert_purchase(self, purchase: Purchase) -> None:
        self.db.run(f"INSERT INTO purchases ({PURCHASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (purchase.id, purchase.app_id, purchase.user_id, purchase.item_id, purchase.granted_at,
                     purchase.expires_at, purchase.consumed_at, purchase.refunded_at, purchase.refund_reason))

    def get_purchase(self, purchase_id: int) -> Purchase | None:
        row = self.db.one(f"SELECT {PURCHASE_COLUMNS} FROM purchases WHERE id = ?", (purchase_id,))
        return None if row is None else Purchase(*row)

    def purchases_of_user(self, user_id: int) -> list[Purchase]:
        """Every grant of the user, consumed and refunded ones included, oldest first."""
        rows = self.db.all(f"SELECT {PURCHASE_COLUMNS} FROM purchases WHERE user_id = ? ORDER BY granted_at, id",
                           (user_id,))
        return [Purchase(*r) for r in rows]

    def mark_consumed(self, purchase_id: int, at: int) -> bool:
        """Consume an unconsumed, unrefunded grant; False when another call got there first."""
        cursor = self.db.run("UPDATE purchases SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL "
                             "AND refunded_at IS NULL", (at, purchase_id))
        return cursor.rowcount == 1

    def mark_refunded(self, purchase_id: int, at: int, reason: str) -> bool:
        """Refund an unconsumed, unrefunded grant; False when it is already consumed or refunded."""
        cursor = self.db.run("UPDATE purchases SET refunded_at = ?, refund_reason = ? WHERE id = ? "
                             "AND consumed_at IS NULL AND refunded_at IS NULL", (at, reason, purchase_id))
        return cursor.rowcount == 1

    # --- subscriptions ----------------------------------------------------------------------------
    def insert_subscription(self, sub: Subscription) -> None:
        self.db.run(f"INSERT INTO subscriptions ({SUB_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                    (sub.id, sub.app_id, sub.user_id, sub.item_id, sub.started_at, sub.period_start0, sub.anchor,
                     sub.renewals, int(sub.trial_at_zero), int(sub.auto_renew), sub.cancelled_at, sub.cancel_reason,
                     sub.extension_days))

    def subscriptions_of_app(self, app_id: int) -> list[Subscription]:
        rows = self.db.all(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE app_id = ? ORDER BY started_at, id",
                           (app_id,))
        return [_sub(r) for r in rows]

    def subscriptions_of_user(self, user_id: int) -> list[Subscription]:
        rows = self.db.all(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE user_id = ? ORDER BY started_at, id",
                           (user_id,))
        return [_sub(r) for r in rows]

    def update_subscription(self, sub: Subscription, expected_renewals: int, expected_anchor: int) -> bool:
        """Write a rolled-forward, cancelled or extended subscription, only if the stored schedule is still
        the one the change was computed from (optimistic check); False otherwise."""
        cursor = self.db.run(
            "UPDATE subscriptions SET period_start0 = ?, anchor = ?, renewals = ?, trial_at_zero = ?, "
            "auto_renew = ?, cancelled_at = ?, cancel_reason = ?, extension_days = ? "
            "WHERE id = ? AND renewals = ? AND anchor = ?",
            (sub.period_start0, sub.anchor, sub.renewals, int(sub.trial_at_zero), int(sub.auto_renew),
             sub.cancelled_at, sub.cancel_reason, sub.extension_days, sub.id, expected_renewals, expected_anchor),
        )
        return cursor.rowcount == 1
