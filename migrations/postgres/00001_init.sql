-- PostgreSQL twin of sqlite/00001_init.sql: same tables, columns, keys and
-- indexes. Times are timestamptz (UTC in, UTC out), REAL is double
-- precision, ids are text. Keep the two files in step; the parity test in
-- internal/store compares the schemas the store sees.

-- +goose Up
CREATE TABLE studies (
    id                   text PRIMARY KEY,
    name                 text NOT NULL,
    description          text NOT NULL DEFAULT '',
    client_form          text,
    counsellor_form      text,
    max_missing_fraction double precision NOT NULL,
    created_at           timestamptz NOT NULL
);

CREATE TABLE dyads (
    id              text PRIMARY KEY,
    study_id        text NOT NULL REFERENCES studies (id),
    client_code     text NOT NULL,
    counsellor_code text NOT NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (study_id, client_code)
);
CREATE INDEX dyads_study_counsellor ON dyads (study_id, counsellor_code);

-- Every version of every rating. The current version of a (dyad, session,
-- role) has superseded_at NULL; amendments supersede it and add a version.
CREATE TABLE ratings (
    id                   text PRIMARY KEY,
    study_id             text NOT NULL REFERENCES studies (id),
    dyad_id              text NOT NULL REFERENCES dyads (id),
    session              integer NOT NULL CHECK (session >= 1),
    session_date         text,
    role                 text NOT NULL CHECK (role IN ('client', 'counsellor')),
    form_id              text NOT NULL,
    answers              text NOT NULL,
    scores               text NOT NULL,
    max_missing_fraction double precision NOT NULL,
    scoring_version      text NOT NULL,
    version              integer NOT NULL CHECK (version >= 1),
    created_at           timestamptz NOT NULL,
    superseded_at        timestamptz,
    UNIQUE (dyad_id, session, role, version)
);
-- Concurrent duplicates of a current rating fail here with 23505, on every
-- instance, whatever the isolation level.
CREATE UNIQUE INDEX ratings_current ON ratings (dyad_id, session, role) WHERE superseded_at IS NULL;
CREATE INDEX ratings_study_session ON ratings (study_id, session) WHERE superseded_at IS NULL;

-- Idempotency keys of committed rating writes, written in the same
-- transaction as the rating they point to. The foreign key is deferred so
-- the key can be claimed before the rating row exists.
CREATE TABLE idempotency_keys (
    key         text PRIMARY KEY,
    fingerprint text NOT NULL,
    rating_id   text NOT NULL REFERENCES ratings (id) DEFERRABLE INITIALLY DEFERRED,
    created_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE ratings;
DROP TABLE dyads;
DROP TABLE studies;
