"""Commerce's tables: the IAP catalogue, the purchase history and subscriptions (graph-api.md §3, §6;
D27-D29, D36). Grants are rows; consumes and refunds mark them and never delete them, so the history
keeps what was granted, consumed and refunded, and when."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, Table, UniqueConstraint

from questgraph.server.db.columns import integer, key, ref, text
from questgraph.server.db.tables import metadata

iap_items = Table(
    "iap_items", metadata,
    key(),
    ref("app_id", "apps.id"),
    text("sku"),
    text("item_type", CheckConstraint("item_type IN ('DURABLE', 'CONSUMABLE', 'SUBSCRIPTION')")),
    text("name"),
    text("description"),
    integer("price_hundredths"),
    text("currency"),
    integer("offer_id"),
    text("subscription_term", nullable=True),
    text("trial_type", nullable=True),
    text("trial_term", nullable=True),
    integer("trial_max_term_count", nullable=True),
    integer("trial_price_hundredths", nullable=True),
    integer("trial_offer_id", nullable=True),
    integer("created_at"),
    UniqueConstraint("app_id", "sku"),
)

purchases = Table(
    "purchases", metadata,
    key(),
    ref("app_id", "apps.id"),
    ref("user_id", "app_users.id"),
    ref("item_id", "iap_items.id"),
    integer("granted_at"),
    integer("expires_at", nullable=True),
    integer("consumed_at", nullable=True),
    integer("refunded_at", nullable=True),
    text("refund_reason", nullable=True),
    Index("purchases_by_user", "user_id", "item_id", "granted_at"),
)

subscriptions = Table(
    "subscriptions", metadata,
    key(),
    ref("app_id", "apps.id"),
    ref("user_id", "app_users.id"),
    ref("item_id", "iap_items.id"),
    integer("started_at"),
    integer("period_start0"),
    integer("anchor"),
    integer("renewals"),
    integer("trial_at_zero"),
    integer("auto_renew"),
    integer("cancelled_at", nullable=True),
    integer("cancel_reason", nullable=True),
    integer("extension_days"),
    Index("subscriptions_by_app", "app_id", "started_at", "id"),
    Index("subscriptions_by_user", "user_id", "item_id"),
)
