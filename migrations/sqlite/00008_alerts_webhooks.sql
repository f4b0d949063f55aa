-- +goose Up
-- Alert thresholds of a study (see docs/alerts-and-webhooks.md): the
-- divergence band on the item metric, the critical z of the reliable
-- change index, and an optional override of the form's clinical cutoff
-- (on the sum metric).
ALTER TABLE studies ADD COLUMN alert_divergence_band REAL NOT NULL DEFAULT 1.0;
ALTER TABLE studies ADD COLUMN alert_rupture_z REAL NOT NULL DEFAULT 1.96;
ALTER TABLE studies ADD COLUMN alert_low_cutoff REAL;

-- Every rating write that evaluates alerts advances its dyad's alert
-- revision in the same transaction, only if it still is the revision the
-- alerts were computed from: two concurrent writes of one dyad cannot both
-- miss the alert their two ratings make together. A revision is a row:
-- the write inserts the one after the revision it read, and the primary
-- key refuses it if another write took it first. An INSERT, not an UPDATE
-- of the dyad, so that a PostgreSQL batch of rating writes stays one
-- INSERT per table (internal/store/pipeline.go) and no write holds a lock
-- on its dyad's row until its batch commits. The current revision is the
-- highest (0 without rows).
CREATE TABLE alert_revisions (
    dyad_id TEXT NOT NULL REFERENCES dyads (id),
    rev     INTEGER NOT NULL,
    PRIMARY KEY (dyad_id, rev)
) WITHOUT ROWID;

-- Alerts, raised in the transaction of the rating write that triggers
-- them. dedup_key names the finding by its kind, role and the rating
-- versions it comes from, so a finding is raised once at most.
CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,
    study_id        TEXT NOT NULL REFERENCES studies (id),
    dyad_id         TEXT NOT NULL REFERENCES dyads (id),
    kind            TEXT NOT NULL CHECK (kind IN ('divergence', 'rupture', 'repair', 'low_alliance')),
    role            TEXT CHECK (role IN ('client', 'counsellor')),
    session         INTEGER NOT NULL CHECK (session >= 1),
    dedup_key       TEXT NOT NULL,
    rating_id       TEXT NOT NULL,
    rating_ids      TEXT NOT NULL,
    episode_id      TEXT,
    figures         TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    acknowledged_at DATETIME,
    acknowledged_by TEXT,
    resolved_at     DATETIME,
    resolved_by     TEXT,
    resolved_reason TEXT
);
CREATE UNIQUE INDEX alerts_dedup ON alerts (dedup_key);
CREATE INDEX alerts_study ON alerts (study_id, id);
CREATE INDEX alerts_dyad ON alerts (dyad_id, id);

-- The outbox: every event a write publishes, in the write's own
-- transaction. The dispatcher fans each out to the study's webhook
-- endpoints (fanned_out_at) and delivers it from webhook_deliveries.
CREATE TABLE outbox_events (
    id            TEXT PRIMARY KEY,
    study_id      TEXT NOT NULL REFERENCES studies (id),
    dyad_id       TEXT,
    type          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    fanned_out_at DATETIME
);
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE fanned_out_at IS NULL;
CREATE INDEX outbox_events_study ON outbox_events (study_id, created_at);
CREATE INDEX outbox_events_dyad ON outbox_events (dyad_id) WHERE dyad_id IS NOT NULL;

-- Webhook endpoints of a study. The signing secrets are sealed with
-- ALLIANCE_SECRET_KEY (AES-GCM); during a rotation the previous secret
-- signs too until previous_expires_at.
CREATE TABLE webhook_endpoints (
    id                   TEXT PRIMARY KEY,
    study_id             TEXT NOT NULL REFERENCES studies (id),
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,
    include_answers      INTEGER NOT NULL DEFAULT 0,
    secret               TEXT NOT NULL,
    previous_secret      TEXT,
    previous_expires_at  DATETIME,
    created_at           DATETIME NOT NULL,
    created_by           TEXT NOT NULL,
    disabled_at          DATETIME,
    disabled_reason      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_endpoints_study ON webhook_endpoints (study_id);

-- One event to deliver to one endpoint, retried until delivered or until
-- the retry window from retry_from has passed. A dispatcher holds a
-- delivery while lease_until is in the future.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_id        TEXT NOT NULL REFERENCES outbox_events (id),
    study_id        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    retry_from      DATETIME NOT NULL,
    lease_until     DATETIME,
    lease_owner     TEXT,
    created_at      DATETIME NOT NULL,
    delivered_at    DATETIME
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- The delivery log: the last attempts per endpoint, with status and
-- latency. No payload is kept here.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    delivery_id INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    at          DATETIME NOT NULL,
    status      INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE outbox_events;
DROP TABLE alerts;
DROP TABLE alert_revisions;
ALTER TABLE studies DROP COLUMN alert_low_cutoff;
ALTER TABLE studies DROP COLUMN alert_rupture_z;
ALTER TABLE studies DROP COLUMN alert_divergence_band;
