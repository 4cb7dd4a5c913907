-- Schema 2: achievements (definitions, per-user progress, uploaded icons) and user proof nonces
-- (graph-api.md §2 and §4.1). Definitions and progress rows have global object ids (D9).

CREATE TABLE achievement_definitions (
    id                             INTEGER PRIMARY KEY,
    app_id                         INTEGER NOT NULL REFERENCES apps(id),
    api_name                       TEXT NOT NULL,
    achievement_type               TEXT NOT NULL,
    write_policy                   TEXT NOT NULL,
    target                         INTEGER NOT NULL,
    bitfield_length                INTEGER NOT NULL,
    is_archived                    INTEGER NOT NULL,
    is_secret                      INTEGER NOT NULL,
    title                          TEXT NOT NULL,
    description                    TEXT NOT NULL,
    unlocked_description_override  TEXT,
    title_locale_map               TEXT,
    description_locale_map         TEXT,
    unlocked_image                 TEXT,
    locked_image                   TEXT,
    created_us                     INTEGER NOT NULL,
    UNIQUE (app_id, api_name)
);

CREATE INDEX achievement_definitions_by_app ON achievement_definitions (app_id, created_us, id);

CREATE TABLE achievement_progress (
    id            INTEGER PRIMARY KEY,
    definition_id INTEGER NOT NULL REFERENCES achievement_definitions(id),
    user_id       INTEGER NOT NULL REFERENCES app_users(id),
    count         INTEGER NOT NULL,
    bits          TEXT NOT NULL,
    unlocked      INTEGER NOT NULL,
    unlock_time   INTEGER,
    created_us    INTEGER NOT NULL,
    UNIQUE (definition_id, user_id)
);

CREATE INDEX achievement_progress_by_user ON achievement_progress (user_id, created_us, id);

CREATE TABLE media_files (
    key          TEXT PRIMARY KEY,
    app_id       INTEGER NOT NULL REFERENCES apps(id),
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE user_nonces (
    nonce_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_users(id),
    app_id     INTEGER NOT NULL REFERENCES apps(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0
);
