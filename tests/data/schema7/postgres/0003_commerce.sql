-- PostgreSQL version of migrations/sqlite/0003_commerce.sql: the same tables, with BIGINT for int64, BYTEA for bytes
-- and TEXT in the "C" collation (ordering by code point, as SQLite's BINARY).
--
-- Schema 3: the IAP catalogue, the purchase history and subscriptions (graph-api.md §3, §6; D27-D29, D36).
-- Grants are rows; consumes and refunds mark them and never delete them, so the history keeps what was
-- granted, consumed and refunded, and when.

CREATE TABLE iap_items (
    id                     BIGINT PRIMARY KEY,
    app_id                 BIGINT NOT NULL REFERENCES apps(id),
    sku                    TEXT COLLATE "C" NOT NULL,
    item_type              TEXT COLLATE "C" NOT NULL CHECK (item_type IN ('DURABLE', 'CONSUMABLE', 'SUBSCRIPTION')),
    name                   TEXT COLLATE "C" NOT NULL,
    description            TEXT COLLATE "C" NOT NULL,
    price_hundredths       BIGINT NOT NULL,
    currency               TEXT COLLATE "C" NOT NULL,
    offer_id               BIGINT NOT NULL,
    subscription_term      TEXT COLLATE "C",
    trial_type             TEXT COLLATE "C",
    trial_term             TEXT COLLATE "C",
    trial_max_term_count   BIGINT,
    trial_price_hundredths BIGINT,
    trial_offer_id         BIGINT,
    created_at             BIGINT NOT NULL,
    UNIQUE (app_id, sku)
);

CREATE TABLE purchases (
    id            BIGINT PRIMARY KEY,
    app_id        BIGINT NOT NULL REFERENCES apps(id),
    user_id       BIGINT NOT NULL REFERENCES app_users(id),
    item_id       BIGINT NOT NULL REFERENCES iap_items(id),
    granted_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    consumed_at   BIGINT,
    refunded_at   BIGINT,
    refund_reason TEXT COLLATE "C"
);

CREATE INDEX purchases_by_user ON purchases (user_id, item_id, granted_at);

CREATE TABLE subscriptions (
    id             BIGINT PRIMARY KEY,
    app_id         BIGINT NOT NULL REFERENCES apps(id),
    user_id        BIGINT NOT NULL REFERENCES app_users(id),
    item_id        BIGINT NOT NULL REFERENCES iap_items(id),
    started_at     BIGINT NOT NULL,
    period_start0  BIGINT NOT NULL,
    anchor         BIGINT NOT NULL,
    renewals       BIGINT NOT NULL,
    trial_at_zero  BIGINT NOT NULL,
    auto_renew     BIGINT NOT NULL,
    cancelled_at   BIGINT,
    cancel_reason  BIGINT,
    extension_days BIGINT NOT NULL
);

CREATE INDEX subscriptions_by_app ON subscriptions (app_id, started_at, id);
CREATE INDEX subscriptions_by_user ON subscriptions (user_id, item_id);
