-- Schema 3: the IAP catalogue, the purchase history and subscriptions (graph-api.md §3, §6; D27-D29, D36).
-- Grants are rows; consumes and refunds mark them and never delete them, so the history keeps what was
-- granted, consumed and refunded, and when.

CREATE TABLE iap_items (
    id                     INTEGER PRIMARY KEY,
    app_id                 INTEGER NOT NULL REFERENCES apps(id),
    sku                    TEXT NOT NULL,
    item_type              TEXT NOT NULL CHECK (item_type IN ('DURABLE', 'CONSUMABLE', 'SUBSCRIPTION')),
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL,
    price_hundredths       INTEGER NOT NULL,
    currency               TEXT NOT NULL,
    offer_id               INTEGER NOT NULL,
    subscription_term      TEXT,
    trial_type             TEXT,
    trial_term             TEXT,
    trial_max_term_count   INTEGER,
    trial_price_hundredths INTEGER,
    trial_offer_id         INTEGER,
    created_at             INTEGER NOT NULL,
    UNIQUE (app_id, sku)
);

CREATE TABLE purchases (
    id            INTEGER PRIMARY KEY,
    app_id        INTEGER NOT NULL REFERENCES apps(id),
    user_id       INTEGER NOT NULL REFERENCES app_users(id),
    item_id       INTEGER NOT NULL REFERENCES iap_items(id),
    granted_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    consumed_at   INTEGER,
    refunded_at   INTEGER,
    refund_reason TEXT
);

CREATE INDEX purchases_by_user ON purchases (user_id, item_id, granted_at);

CREATE TABLE subscriptions (
    id             INTEGER PRIMARY KEY,
    app_id         INTEGER NOT NULL REFERENCES apps(id),
    user_id        INTEGER NOT NULL REFERENCES app_users(id),
    item_id        INTEGER NOT NULL REFERENCES iap_items(id),
    started_at     INTEGER NOT NULL,
    period_start0  INTEGER NOT NULL,
    anchor         INTEGER NOT NULL,
    renewals       INTEGER NOT NULL,
    trial_at_zero  INTEGER NOT NULL,
    auto_renew     INTEGER NOT NULL,
    cancelled_at   INTEGER,
    cancel_reason  INTEGER,
    extension_days INTEGER NOT NULL
);

CREATE INDEX subscriptions_by_app ON subscriptions (app_id, started_at, id);
CREATE INDEX subscriptions_by_user ON subscriptions (user_id, item_id);
