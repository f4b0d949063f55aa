-- +goose Up
CREATE TABLE studies (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    client_form          TEXT,
    counsellor_form      TEXT,
    max_missing_fraction REAL NOT NULL,
    created_at           DATETIME NOT NULL
);

CREATE TABLE dyads (
    id              TEXT PRIMARY KEY,
    study_id        TEXT NOT NULL REFERENCES studies (id),
    client_code     TEXT NOT NULL,
    counsellor_code TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    UNIQUE (study_id, client_code)
);
CREATE INDEX dyads_study_counsellor ON dyads (study_id, counsellor_code);

-- Every version of every rating. The current version of a (dyad, session,
-- role) has superseded_at NULL; amendments supersede it and add a version.
CREATE TABLE ratings (
    id                   TEXT PRIMARY KEY,
    study_id             TEXT NOT NULL REFERENCES studies (id),
    dyad_id              TEXT NOT NULL REFERENCES dyads (id),
    session              INTEGER NOT NULL CHECK (session >= 1),
    session_date         TEXT,
    role                 TEXT NOT NULL CHECK (role IN ('client', 'counsellor')),
    form_id              TEXT NOT NULL,
    answers              TEXT NOT NULL,
    scores               TEXT NOT NULL,
    max_missing_fraction REAL NOT NULL,
    scoring_version      TEXT NOT NULL,
    version              INTEGER NOT NULL CHECK (version >= 1),
    created_at           DATETIME NOT NULL,
    superseded_at        DATETIME,
    UNIQUE (dyad_id, session, role, version)
);
CREATE UNIQUE INDEX ratings_current ON ratings (dyad_id, session, role) WHERE superseded_at IS NULL;
CREATE INDEX ratings_study_session ON ratings (study_id, session) WHERE superseded_at IS NULL;

-- Idempotency keys of committed rating writes, written in the same
-- transaction as the rating they point to. The foreign key is deferred so
-- the key can be claimed before the rating row exists.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    rating_id   TEXT NOT NULL REFERENCES ratings (id) DEFERRABLE INITIALLY DEFERRED,
    created_at  DATETIME NOT NULL
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE ratings;
DROP TABLE dyads;
DROP TABLE studies;
