-- PostgreSQL version of migrations/sqlite/0004_sso.sql: the same tables, with BIGINT for int64, BYTEA for bytes
-- and TEXT in the "C" collation (ordering by code point, as SQLite's BINARY).
--
-- Schema 4: account linking (SSO, D30-D35). Every secret (session, code, oauth_token, refresh_code) is
-- stored only as its SHA-256 digest (D11); passwords as a scrypt string. Times are server-clock Unix
-- seconds (D36). A link is one grant: one code exchange and every token and refresh code issued from it.

CREATE TABLE sso_passwords (
    person_id     BIGINT PRIMARY KEY REFERENCES persons(id),
    password_hash TEXT COLLATE "C" NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sso_login_failures (
    subject TEXT COLLATE "C" NOT NULL,
    at      BIGINT NOT NULL
);

CREATE INDEX sso_login_failures_by_subject ON sso_login_failures (subject, at);

CREATE TABLE sso_sessions (
    session_hash TEXT COLLATE "C" PRIMARY KEY,
    person_id    BIGINT REFERENCES persons(id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE TABLE sso_links (
    id            BIGINT PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs(id),
    org_scoped_id BIGINT NOT NULL,
    person_id     BIGINT NOT NULL REFERENCES persons(id),
    app_id        BIGINT NOT NULL REFERENCES apps(id),
    created_at    BIGINT NOT NULL,
    refreshed_at  BIGINT,
    revoked_at    BIGINT,
    revoked_why   TEXT COLLATE "C"
);

CREATE INDEX sso_links_by_person ON sso_links (person_id);

CREATE TABLE sso_codes (
    code_hash     TEXT COLLATE "C" PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs(id),
    org_scoped_id BIGINT NOT NULL,
    person_id     BIGINT NOT NULL REFERENCES persons(id),
    redirect_uri  TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    link_id       BIGINT REFERENCES sso_links(id)
);

CREATE TABLE sso_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    link_id    BIGINT NOT NULL REFERENCES sso_links(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sso_tokens_by_link ON sso_tokens (link_id);

CREATE TABLE sso_refresh_codes (
    code_hash  TEXT COLLATE "C" PRIMARY KEY,
    link_id    BIGINT NOT NULL REFERENCES sso_links(id),
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE INDEX sso_refresh_codes_by_link ON sso_refresh_codes (link_id);
