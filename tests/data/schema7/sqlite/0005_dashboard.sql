-- Schema 5: the web dashboard (issue 7). Members of an organization who sign in to /dashboard, their
-- browser sessions (stored only as the SHA-256 of the cookie value, D11), and the audit log of every admin
-- action. Portable SQL: plain types, no SQLite-only clauses; ids come from the backend (an identity column
-- in PostgreSQL). Times are server-clock Unix seconds (D36).

CREATE TABLE dashboard_members (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'developer')),
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE dashboard_sessions (
    session_hash TEXT PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    member_id    INTEGER REFERENCES dashboard_members(id),
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);

CREATE INDEX dashboard_sessions_by_member ON dashboard_sessions (member_id);

-- No foreign key to orgs: the log outlives what it describes (an org may be re-created by a reset).
CREATE TABLE dashboard_audit (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    org_id INTEGER,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE INDEX dashboard_audit_by_org ON dashboard_audit (org_id, id);
