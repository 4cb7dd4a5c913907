-- PostgreSQL version of migrations/sqlite/0002_achievements_users.sql: the same tables, with BIGINT for int64, BYTEA for bytes
-- and TEXT in the "C" collation (ordering by code point, as SQLite's BINARY).
--
-- Schema 2: achievements (definitions, per-user progress, uploaded icons) and user proof nonces
-- (graph-api.md §2 and §4.1). Definitions and progress rows have global object ids (D9).

CREATE TABLE achievement_definitions (
    id                             BIGINT PRIMARY KEY,
    app_id                         BIGINT NOT NULL REFERENCES apps(id),
    api_name                       TEXT COLLATE "C" NOT NULL,
    achievement_type               TEXT COLLATE "C" NOT NULL,
    write_policy                   TEXT COLLATE "C" NOT NULL,
    target                         BIGINT NOT NULL,
    bitfield_length                BIGINT NOT NULL,
    is_archived                    BIGINT NOT NULL,
    is_secret                      BIGINT NOT NULL,
    title                          TEXT COLLATE "C" NOT NULL,
    description                    TEXT COLLATE "C" NOT NULL,
    unlocked_description_override  TEXT COLLATE "C",
    title_locale_map               TEXT COLLATE "C",
    description_locale_map         TEXT COLLATE "C",
    unlocked_image                 TEXT COLLATE "C",
    locked_image                   TEXT COLLATE "C",
    created_us                     BIGINT NOT NULL,
    UNIQUE (app_id, api_name)
);

CREATE INDEX achievement_definitions_by_app ON achievement_definitions (app_id, created_us, id);

CREATE TABLE achievement_progress (
    id            BIGINT PRIMARY KEY,
    definition_id BIGINT NOT NULL REFERENCES achievement_definitions(id),
    user_id       BIGINT NOT NULL REFERENCES app_users(id),
    count         BIGINT NOT NULL,
    bits          TEXT COLLATE "C" NOT NULL,
    unlocked      BIGINT NOT NULL,
    unlock_time   BIGINT,
    created_us    BIGINT NOT NULL,
    UNIQUE (definition_id, user_id)
);

CREATE INDEX achievement_progress_by_user ON achievement_progress (user_id, created_us, id);

CREATE TABLE media_files (
    key          TEXT COLLATE "C" PRIMARY KEY,
    app_id       BIGINT NOT NULL REFERENCES apps(id),
    content_type TEXT COLLATE "C" NOT NULL,
    data         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE user_nonces (
    nonce_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES app_users(id),
    app_id     BIGINT NOT NULL REFERENCES apps(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used       BIGINT NOT NULL DEFAULT 0
);
