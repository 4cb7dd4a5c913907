-- Schema 1: identity (orgs, apps, people, app- and org-scoped users, tokens, entitlements, friends,
-- SSO redirect URIs) and leaderboards. Ids are the global object ids of D9, stored as int64.

CREATE TABLE objects (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE apps (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE persons (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    alias         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    profile_url   TEXT NOT NULL,
    age_category  TEXT NOT NULL CHECK (age_category IN ('CH', 'TN', 'AD'))
);

CREATE TABLE app_users (
    id        INTEGER PRIMARY KEY,
    app_id    INTEGER NOT NULL REFERENCES apps(id),
    person_id INTEGER NOT NULL REFERENCES persons(id),
    UNIQUE (app_id, person_id)
);

CREATE TABLE org_users (
    id        INTEGER PRIMARY KEY,
    org_id    INTEGER NOT NULL REFERENCES orgs(id),
    person_id INTEGER NOT NULL REFERENCES persons(id),
    UNIQUE (org_id, person_id)
);

CREATE TABLE friendships (
    person_a INTEGER NOT NULL REFERENCES persons(id),
    person_b INTEGER NOT NULL REFERENCES persons(id),
    PRIMARY KEY (person_a, person_b)
);

CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_users(id),
    app_id     INTEGER NOT NULL REFERENCES apps(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);

CREATE TABLE entitlements (
    user_id    INTEGER NOT NULL REFERENCES app_users(id),
    app_id     INTEGER NOT NULL REFERENCES apps(id),
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id)
);

CREATE TABLE redirect_uris (
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    uri    TEXT NOT NULL,
    PRIMARY KEY (org_id, uri)
);

CREATE TABLE leaderboards (
    id                          INTEGER PRIMARY KEY,
    app_id                      INTEGER NOT NULL REFERENCES apps(id),
    api_name                    TEXT NOT NULL,
    sort_order                  TEXT NOT NULL,
    entry_write_policy          TEXT NOT NULL,
    earliest_allowed_entry_time INTEGER,
    latest_allowed_entry_time   INTEGER,
    title_locale_map            TEXT,
    created_at                  INTEGER NOT NULL,
    UNIQUE (app_id, api_name)
);

CREATE TABLE entries (
    id             INTEGER PRIMARY KEY,
    leaderboard_id INTEGER NOT NULL REFERENCES leaderboards(id),
    user_id        INTEGER NOT NULL REFERENCES app_users(id),
    score          INTEGER NOT NULL,
    extra_data     BLOB NOT NULL,
    written_us     INTEGER NOT NULL,
    UNIQUE (leaderboard_id, user_id)
);

CREATE INDEX entries_by_board ON entries (leaderboard_id, score, written_us, id);
