-- Schema 4: account linking (SSO, D30-D35). Every secret (session, code, oauth_token, refresh_code) is
-- stored only as its SHA-256 digest (D11); passwords as a scrypt string. Times are server-clock Unix
-- seconds (D36). A link is one grant: one code exchange and every token and refresh code issued from it.

CREATE TABLE sso_passwords (
    person_id     INTEGER PRIMARY KEY REFERENCES persons(id),
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE sso_login_failures (
    subject TEXT NOT NULL,
    at      INTEGER NOT NULL
);

CREATE INDEX sso_login_failures_by_subject ON sso_login_failures (subject, at);

CREATE TABLE sso_sessions (
    session_hash TEXT PRIMARY KEY,
    person_id    INTEGER REFERENCES persons(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);

CREATE TABLE sso_links (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    org_scoped_id INTEGER NOT NULL,
    person_id     INTEGER NOT NULL REFERENCES persons(id),
    app_id        INTEGER NOT NULL REFERENCES apps(id),
    created_at    INTEGER NOT NULL,
    refreshed_at  INTEGER,
    revoked_at    INTEGER,
    revoked_why   TEXT
);

CREATE INDEX sso_links_by_person ON sso_links (person_id);

CREATE TABLE sso_codes (
    code_hash     TEXT PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    org_scoped_id INTEGER NOT NULL,
    person_id     INTEGER NOT NULL REFERENCES persons(id),
    redirect_uri  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    link_id       INTEGER REFERENCES sso_links(id)
);

CREATE TABLE sso_tokens (
    token_hash TEXT PRIMARY KEY,
    link_id    INTEGER NOT NULL REFERENCES sso_links(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sso_tokens_by_link ON sso_tokens (link_id);

CREATE TABLE sso_refresh_codes (
    code_hash  TEXT PRIMARY KEY,
    link_id    INTEGER NOT NULL REFERENCES sso_links(id),
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE INDEX sso_refresh_codes_by_link ON sso_refresh_codes (link_id);
