-- +goose Up
-- API keys: only a hash of the secret is stored. scopes is a
-- comma-separated list of admin, collect, analyze.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    study_id   TEXT REFERENCES studies (id),
    hash       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at DATETIME
);

-- One-time survey links for one rater of one dyad session.
CREATE TABLE invitations (
    id         TEXT PRIMARY KEY,
    study_id   TEXT NOT NULL REFERENCES studies (id),
    dyad_id    TEXT NOT NULL REFERENCES dyads (id),
    session    INTEGER NOT NULL CHECK (session >= 1),
    role       TEXT NOT NULL CHECK (role IN ('client', 'counsellor')),
    hash       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME,
    rating_id  TEXT REFERENCES ratings (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX invitations_dyad ON invitations (dyad_id, session, role);

-- Every committed write, appended in the write's own transaction.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          DATETIME NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    study_id    TEXT,
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_log_study ON audit_log (study_id, id);

-- The log is append-only for everyone, the service included.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_log;
DROP TABLE invitations;
DROP TABLE api_keys;
